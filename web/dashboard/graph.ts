/// <reference lib="dom" />
/**
 * A DAG drawn as a graph: dagre (`@dagrejs/dagre`, bundled, 17 KB gzipped; elkjs would be 450 KB) places
 * the nodes top to bottom, and the drawing is SVG whose nodes carry `data-state`, so the style sheet colours
 * them and a state change is one attribute. Layout is done once per structure; states change in place.
 */
import dagre from "@dagrejs/dagre";
import { svg } from "./dom.ts";

/** The most nodes drawn as a graph; a larger DAG is shown as a table (dagre's cost grows fast). */
export const MAX_GRAPH_NODES = 400;

const NODE_HEIGHT = 46;
const CHAR_WIDTH = 7.4;

/** A node to place: its id and the ids it waits for. */
export interface GraphInput {
  id: string;
  after?: readonly string[];
  kind?: string;
}

/** Where everything goes. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: Array<{ id: string; kind: string; x: number; y: number; width: number; height: number }>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>;
}

/** Places the nodes (edges to unknown ids are left out: the server reports those). */
export function layoutGraph(nodes: readonly GraphInput[]): GraphLayout {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 40, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const node of nodes) {
    // Room for the id and for a subtitle such as "succeeded · device-a".
    const width = Math.max(150, Math.min(260, node.id.length * CHAR_WIDTH + 28));
    graph.setNode(node.id, { width, height: NODE_HEIGHT });
  }
  for (const node of nodes) {
    for (const dep of node.after ?? []) if (ids.has(dep) && dep !== node.id) graph.setEdge(dep, node.id);
  }
  dagre.layout(graph);
  const size = graph.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes: nodes.map((node) => {
      const placed = graph.node(node.id);
      return {
        id: node.id,
        kind: node.kind ?? "script",
        x: placed.x - placed.width / 2,
        y: placed.y - placed.height / 2,
        width: placed.width,
        height: placed.height,
      };
    }),
    edges: graph.edges().map((edge) => ({
      from: edge.v,
      to: edge.w,
      points: (graph.edge(edge).points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
    })),
  };
}

/** The drawn graph: the SVG and a way to set a node's state and mark the selected node. */
export interface DrawnGraph {
  element: SVGSVGElement;
  setState(nodeId: string, state: string, subtitle?: string): void;
  select(nodeId: string | null): void;
}

/** Draws a layout; `onSelect` is called with a node's id when it is clicked (or activated by keyboard). */
export function drawGraph(
  layout: GraphLayout,
  stateOf: (nodeId: string) => string,
  onSelect: (nodeId: string) => void,
): DrawnGraph {
  const groups = new Map<string, SVGGElement>();
  const path = (points: Array<{ x: number; y: number }>) =>
    points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
  const element = svg(
    "svg",
    {
      class: "graph",
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      width: layout.width,
      height: layout.height,
      role: "group",
      "aria-label": "DAG graph",
    },
    svg(
      "defs",
      null,
      svg(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto",
        },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }),
      ),
    ),
    layout.edges.map((edge) =>
      svg("path", {
        class: "edge",
        d: path(edge.points),
        "marker-end": "url(#arrow)",
        "data-from": edge.from,
        "data-to": edge.to,
      })
    ),
    layout.nodes.map((node) => {
      const group = svg(
        "g",
        {
          class: "node",
          "data-node": node.id,
          "data-kind": node.kind,
          "data-state": stateOf(node.id),
          transform: `translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`,
          tabindex: 0,
          role: "button",
          "aria-label": `node ${node.id}`,
        },
        svg("rect", { width: node.width, height: node.height, rx: 7, ry: 7 }),
        svg("text", { x: node.width / 2, y: 19, class: "node-id" }, node.id),
        svg("text", { x: node.width / 2, y: 35, class: "node-state" }, `${node.kind} · ${stateOf(node.id)}`),
      );
      group.addEventListener("click", () => onSelect(node.id));
      group.addEventListener("keydown", (event) => {
        if ((event as KeyboardEvent).key === "Enter" || (event as KeyboardEvent).key === " ") {
          onSelect(node.id);
        }
      });
      groups.set(node.id, group);
      return group;
    }),
  );
  return {
    element,
    setState(nodeId, state, subtitle) {
      const group = groups.get(nodeId);
      if (group === undefined) return;
      group.setAttribute("data-state", state);
      const label = group.querySelector(".node-state");
      if (label === null) return;
      const text = subtitle ?? `${group.getAttribute("data-kind")} · ${state}`;
      const fits = Math.floor((Number(group.querySelector("rect")?.getAttribute("width")) - 14) / 6.3);
      label.textContent = text.length > fits ? `${text.slice(0, fits - 1)}…` : text;
    },
    select(nodeId) {
      for (const [id, group] of groups) group.classList.toggle("selected", id === nodeId);
    },
  };
}
