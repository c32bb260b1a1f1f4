/** The legal node and DAG transitions, and the typed refusal of everything else. */

/** Node states. */
export const NODE_STATUSES = [
  "pending",
  "waiting",
  "assigned",
  "running",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;
/** A node state. */
export type NodeStatus = typeof NODE_STATUSES[number];

/** DAG states. */
export const DAG_STATUSES = ["running", "succeeded", "failed", "cancelled"] as const;
/** A DAG state. */
export type DagStatus = typeof DAG_STATUSES[number];

/**
 * Every legal node transition; anything else is refused.
 * - pending → waiting (no device can take it), assigned (device chosen), running (server nodes start at
 *   once), skipped (a dependency failed), cancelled.
 * - waiting → assigned (a device became able to take it), cancelled.
 * - assigned → running (the device accepted), succeeded (its RESULT outran the acceptance), failed,
 *   pending (the attempt failed and a retry is due after its backoff), cancelled.
 * - running → succeeded, failed, pending (retry), cancelled.
 * - succeeded, failed, skipped, cancelled are final.
 */
export const NODE_TRANSITIONS = {
  pending: ["waiting", "assigned", "running", "skipped", "cancelled"],
  waiting: ["assigned", "cancelled"],
  assigned: ["running", "succeeded", "failed", "pending", "cancelled"],
  running: ["succeeded", "failed", "pending", "cancelled"],
  succeeded: [],
  failed: [],
  skipped: [],
  cancelled: [],
} as const satisfies Record<NodeStatus, readonly NodeStatus[]>;

/** Every legal DAG transition: a running DAG ends once, in one of three ways. */
export const DAG_TRANSITIONS = {
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
} as const satisfies Record<DagStatus, readonly DagStatus[]>;

/** Whether a node state is final (no transition leaves it). */
export function isFinal(status: NodeStatus): boolean {
  return NODE_TRANSITIONS[status].length === 0;
}

/** Whether the node table allows `from` → `to`. */
export function isLegalTransition(from: NodeStatus, to: NodeStatus): boolean {
  return (NODE_TRANSITIONS[from] as readonly NodeStatus[]).includes(to);
}

/** A refused node or DAG transition. */
export class IllegalTransitionError extends Error {
  /** Machine-readable code. */
  readonly code = "illegal-transition";
  constructor(
    /** The node (or, for `subject: "dag"`, the DAG) that was to move. */
    readonly nodeId: string,
    readonly from: string,
    readonly to: string,
    readonly subject: "node" | "dag" = "node",
  ) {
    super(`Cannot move ${subject} ${nodeId} from ${from} to ${to}: not a legal transition`);
    this.name = "IllegalTransitionError";
  }
}

/** Throws IllegalTransitionError unless the node table allows `from` → `to`. */
export function assertTransition(nodeId: string, from: NodeStatus, to: NodeStatus): void {
  if (!isLegalTransition(from, to)) throw new IllegalTransitionError(nodeId, from, to);
}

/** Throws IllegalTransitionError unless the DAG table allows `from` → `to`. */
export function assertDagTransition(dagId: string, from: DagStatus, to: DagStatus): void {
  if (!(DAG_TRANSITIONS[from] as readonly DagStatus[]).includes(to)) {
    throw new IllegalTransitionError(dagId, from, to, "dag");
  }
}
