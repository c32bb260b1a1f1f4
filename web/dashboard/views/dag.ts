/// <reference lib="dom" />
/**
 * A DAG's page (`#/dags/ID`): the graph, whose nodes change colour as their states change (live from the
 * DAG's own event stream), a panel for the selected node, the DAG's artifacts and held actions, and Cancel.
 */
import { seg } from "../api.ts";
import type { Context, View } from "../context.ts";
import { throttle } from "../context.ts";
import { DagModel } from "../dag_model.ts";
import { cell, confirmButton, errorBox, h, loading, replace } from "../dom.ts";
import { EventFeed } from "../events.ts";
import { clock, duration, isFinal } from "../format.ts";
import { drawGraph, type DrawnGraph, layoutGraph, MAX_GRAPH_NODES } from "../graph.ts";
import { approvalCard, artifactButton, NodePanel } from "../node_panel.ts";
import type { Approval, Artifact, DagView } from "../types.ts";
import { stateBadge } from "./devices.ts";
import { progressBar } from "./dags.ts";

/** The node's line in the graph: its kind, state and (for device nodes) device. */
function subtitle(ctx: Context, model: DagModel, nodeId: string): string {
  const node = model.node(nodeId);
  const state = model.stateOf(nodeId);
  const device = node?.device ? ` · ${ctx.deviceName(node.device)}` : "";
  return `${state}${device}`;
}

function nodeTable(ctx: Context, model: DagModel, select: (id: string) => void): HTMLElement {
  return h(
    "table",
    { class: "responsive" },
    h("thead", null, h("tr", null, ["Node", "State", "Device", "After"].map((t) => h("th", null, t)))),
    h(
      "tbody",
      null,
      model.view!.nodes.map((node) => {
        const link = h("button", { type: "button", class: "link" }, node.id);
        link.addEventListener("click", () => select(node.id));
        return h(
          "tr",
          { class: "node-row", "data-node": node.id, "data-state": model.stateOf(node.id) },
          cell("Node", link),
          cell("State", stateBadge(model.stateOf(node.id))),
          cell("Device", node.device ? ctx.deviceName(node.device) : "—"),
          cell("After", node.after.join(", ") || "—"),
        );
      }),
    ),
  );
}

export const dagView: View = (root, ctx, id) => {
  const dagId = id ?? "";
  const model = new DagModel();
  const title = h("h1", null, dagId);
  const stateBox = h("span", { id: "dag-state", "data-state": "" });
  const tools = h("div", { class: "tools" });
  const progressBox = h("div", { class: "dag-progress" });
  const graphBox = h("div", { class: "graph-box", id: "graph" }, loading("the DAG"));
  const panel = h("aside", { class: "panel card", id: "node-panel", hidden: true });
  const approvalsBox = h("div", { id: "dag-approvals" });
  const artifactsBox = h("div", { id: "dag-artifacts" });
  const metricsBox = h("div", { class: "muted", id: "dag-metrics" });
  const failure = h("div");
  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/dags" }, "DAGs"), " / ", dagId),
    h("div", { class: "page-head" }, h("div", null, title, " ", stateBox), tools),
    progressBox,
    failure,
    approvalsBox,
    h("div", { class: "dag-grid" }, h("section", { class: "card graph-card" }, graphBox), panel),
    h("section", { class: "card" }, h("h2", null, "Artifacts"), artifactsBox),
    metricsBox,
  );

  let graph: DrawnGraph | null = null;
  let drawnStructure = "";
  let selected: string | null = null;
  let nodePanel: NodePanel | null = null;
  let approvals: Approval[] = [];
  let artifacts: Artifact[] = [];
  let stopped = false;

  const select = (nodeId: string | null) => {
    selected = nodeId;
    graph?.select(nodeId);
    nodePanel?.close();
    nodePanel = null;
    if (nodeId === null || model.node(nodeId) === undefined) {
      panel.hidden = true;
      return;
    }
    nodePanel = new NodePanel(panel, ctx, dagId, nodeId);
    updatePanel();
  };
  panel.addEventListener("panel-close", () => select(null));

  const updatePanel = () => {
    if (nodePanel === null || selected === null) return;
    const node = model.node(selected);
    if (node !== undefined) nodePanel.update({ node, state: model.stateOf(selected), approvals, artifacts });
  };

  const renderHeader = () => {
    const view = model.view;
    if (view === null) return;
    title.textContent = view.name || view.id;
    stateBox.dataset.state = model.state;
    replace(stateBox, stateBadge(model.state));
    replace(progressBox, progressBar(model.counts(), view.nodes.length));
    replace(
      tools,
      model.state === "running"
        ? confirmButton("Cancel DAG", "Confirm: cancel it", async () => {
          try {
            await ctx.api.post(`/api/dags/${seg(dagId)}/cancel`);
          } catch (error) {
            replace(failure, errorBox(error, "cancel-error"));
          }
        }, { id: "cancel-dag", class: "danger" })
        : null,
    );
    const { criticalPath, parallelism } = view.metrics;
    replace(
      metricsBox,
      `Created ${clock(view.createdAt)}`,
      view.endedAt ? ` · ended ${clock(view.endedAt)} · took ${duration(view.endedAt - view.createdAt)}` : "",
      criticalPath.nodes.length
        ? ` · critical path ${criticalPath.nodes.join(" → ")} (${duration(criticalPath.ms)})`
        : "",
      parallelism ? ` · parallelism ${parallelism}` : "",
      ` · id ${view.id}`,
    );
  };

  const renderGraph = () => {
    const view = model.view;
    if (view === null) return;
    const structure = JSON.stringify(view.nodes.map((n) => [n.id, n.after]));
    if (structure !== drawnStructure) {
      drawnStructure = structure;
      if (view.nodes.length > MAX_GRAPH_NODES) {
        graph = null;
        replace(
          graphBox,
          h(
            "p",
            { class: "muted" },
            `${view.nodes.length} nodes: shown as a table (graphs are drawn up to ${MAX_GRAPH_NODES}).`,
          ),
        );
      } else {
        graph = drawGraph(
          layoutGraph(view.nodes),
          (nodeId) => model.stateOf(nodeId),
          (nodeId) => select(nodeId),
        );
        replace(graphBox, graph.element);
        graph.select(selected);
      }
    }
    if (graph === null) {
      replace(graphBox, graphBox.firstChild, nodeTable(ctx, model, select));
    } else {
      for (const node of view.nodes) {
        graph.setState(node.id, model.stateOf(node.id), subtitle(ctx, model, node.id));
      }
    }
    document.body.dataset.dagState = model.state;
  };

  const loadView = async () => {
    try {
      const view = await ctx.api.get<DagView>(`/api/dags/${seg(dagId)}`);
      if (stopped) return;
      model.setView(view);
      failure.replaceChildren();
      renderHeader();
      renderGraph();
      updatePanel();
    } catch (error) {
      if (!stopped) {
        replace(failure, errorBox(error, "dag-error"));
        if (model.view === null) graphBox.replaceChildren();
      }
    }
  };
  const loadApprovals = async () => {
    try {
      const all = await ctx.api.get<{ approvals: Approval[] }>("/api/approvals");
      approvals = all.approvals.filter((a) => a.dagId === dagId);
      replace(approvalsBox, approvals.map((a) => approvalCard(ctx, a, () => void loadApprovals())));
      updatePanel();
    } catch (error) {
      replace(approvalsBox, errorBox(error));
    }
  };
  const loadArtifacts = async () => {
    try {
      artifacts =
        (await ctx.api.get<{ artifacts: Artifact[] }>(`/api/dags/${seg(dagId)}/artifacts`)).artifacts;
      replace(
        artifactsBox,
        artifacts.length === 0
          ? h("p", { class: "muted" }, "No artifact stored yet.")
          : h("ul", { class: "artifacts" }, artifacts.map((a) => artifactButton(ctx.api, dagId, a))),
      );
      updatePanel();
    } catch (error) {
      replace(artifactsBox, errorBox(error));
    }
  };
  // Attempts and timings come with the view: fetched again shortly after transitions.
  const refreshView = throttle(() => void loadView(), 700);
  const refreshApprovals = throttle(() => void loadApprovals(), 300);
  const refreshArtifacts = throttle(() => void loadArtifacts(), 500);
  const refreshSteps = throttle(() => void nodePanel?.reloadSteps(), 500);

  const feed = new EventFeed({
    token: ctx.api.token,
    dag: dagId,
    replay: true,
    onEvent: (event) => {
      if (event.event === "transition") {
        const change = model.apply(event);
        if (change.unknownNode) refreshView();
        if (model.view !== null) {
          renderHeader();
          if (graph !== null) {
            for (const nodeId of change.nodes) {
              graph.setState(nodeId, model.stateOf(nodeId), subtitle(ctx, model, nodeId));
            }
            document.body.dataset.dagState = model.state;
          } else if (change.nodes.length > 0) renderGraph();
          refreshView();
        }
        if (change.nodes.some((nodeId) => isFinal(model.stateOf(nodeId))) || change.dag) refreshArtifacts();
      } else if (event.event === "step" && event.data.nodeId === selected) {
        refreshSteps();
      } else if (event.event === "approval") {
        refreshApprovals();
      }
    },
    onReconnect: () => {
      refreshView();
      refreshApprovals();
      refreshArtifacts();
    },
  });
  const stopDevices = ctx.onDevices(() => renderGraph());

  void loadView();
  void loadApprovals();
  void loadArtifacts();
  return () => {
    stopped = true;
    feed.close();
    stopDevices();
    nodePanel?.close();
    for (const pending of [refreshView, refreshApprovals, refreshArtifacts, refreshSteps]) pending.cancel();
    delete document.body.dataset.dagState;
  };
};
