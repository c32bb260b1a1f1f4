/**
 * One DAG as its page shows it: the structure and details of the REST view, with node and DAG states taken
 * from the DAG's own event stream (`?dag=ID`, replayed from its start, so it ends on the present state in
 * order). A view fetched while events were in flight can be older than the last event: states set by
 * events are never overwritten by a view. Pure.
 */
import type { FeedEvent } from "./events.ts";
import type { DagView, NodeView } from "./types.ts";

/** What an event changed. */
export interface DagChange {
  /** The DAG's own state changed. */
  dag: boolean;
  /** Ids of nodes whose state changed. */
  nodes: string[];
  /** A node the view does not have yet (an edit added it): refetch the view. */
  unknownNode: boolean;
}

/** The DAG model of a page. */
export class DagModel {
  view: DagView | null = null;
  /** States set by events, which win over the view's. */
  readonly #eventStates = new Map<string, string>();
  #eventDagState: string | null = null;

  /** Takes a freshly fetched view. */
  setView(view: DagView): void {
    this.view = view;
    for (const node of view.nodes) {
      const state = this.#eventStates.get(node.id);
      if (state !== undefined) node.state = state;
    }
    if (this.#eventDagState !== null) view.state = this.#eventDagState;
  }

  node(id: string): NodeView | undefined {
    return this.view?.nodes.find((n) => n.id === id);
  }

  /** The state of a node now. */
  stateOf(id: string): string {
    return this.#eventStates.get(id) ?? this.node(id)?.state ?? "pending";
  }

  get state(): string {
    return this.#eventDagState ?? this.view?.state ?? "running";
  }

  /** Applies a `transition` event of this DAG. */
  apply(event: FeedEvent): DagChange {
    const change: DagChange = { dag: false, nodes: [], unknownNode: false };
    if (event.event !== "transition") return change;
    const data = event.data;
    const to = String(data.to);
    if (data.kind === "dag") {
      this.#eventDagState = to;
      if (this.view !== null) this.view.state = to;
      change.dag = true;
      return change;
    }
    if (data.kind !== "node") return change;
    const nodeId = String(data.nodeId);
    this.#eventStates.set(nodeId, to);
    const node = this.node(nodeId);
    if (node === undefined) {
      change.unknownNode = this.view !== null;
      return change;
    }
    node.state = to;
    if (typeof data.deviceId === "string") node.device = data.deviceId;
    change.nodes.push(nodeId);
    return change;
  }

  /** Counts of nodes by state. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const node of this.view?.nodes ?? []) {
      const state = this.stateOf(node.id);
      counts[state] = (counts[state] ?? 0) + 1;
    }
    return counts;
  }
}
