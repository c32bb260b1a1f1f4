/**
 * The progress of one DAG as the CLI follows it: events in (`transition`, `step`, `approval`), a line per
 * change out (plain mode), and a compact block to redraw on a terminal (nodes by state, the node on each
 * device, elapsed time). Pure: times come in as arguments, device names through a lookup.
 */
import { NODE_STATE_ORDER } from "../shared/api_views.ts";
import { duration, truncate } from "./format.ts";

/** An event as the stream delivers it: its name and its parsed `data:`. */
export interface ProgressEvent {
  event: string;
  data: Record<string, unknown>;
}

interface NodeProgress {
  state: string;
  deviceId: string | null;
  attempt: number;
  /** The last step the current attempt ended: `2 move`. */
  step: string | null;
}

/** Names a device id (falls back to a short id). */
export type DeviceNamer = (deviceId: string) => string;

/** One DAG's progress. */
export class DagProgress {
  state = "running";
  endedAtMs: number | null = null;
  readonly #nodes = new Map<string, NodeProgress>();

  constructor(
    readonly dagId: string,
    readonly name: string,
    /** The server's creation time of the DAG: plain lines show times relative to it. */
    readonly createdAtMs: number,
    nodeIds: readonly string[],
  ) {
    for (const id of nodeIds) {
      this.#nodes.set(id, { state: "pending", deviceId: null, attempt: 0, step: null });
    }
  }

  /** Whether the DAG has ended. */
  get done(): boolean {
    return this.state !== "running";
  }

  /** Node ids and states, in submission order. */
  nodes(): Array<{ id: string; state: string }> {
    return [...this.#nodes].map(([id, node]) => ({ id, state: node.state }));
  }

  /** Applies one event; returns its plain line (null for events that change nothing shown). */
  apply(event: ProgressEvent, name: DeviceNamer): { line: string | null; notable: boolean } {
    const data = event.data;
    if (data.dagId !== undefined && data.dagId !== this.dagId) return { line: null, notable: false };
    const at = `+${((Number(data.atMs) - this.createdAtMs) / 1000).toFixed(2)}s`;
    if (event.event === "transition" && data.kind === "dag") {
      this.state = String(data.to);
      this.endedAtMs = this.done ? Number(data.atMs) : null;
      const reason = data.reason ? `: ${data.reason}` : "";
      const from = data.from ?? "submitted";
      return { line: `${at} DAG ${this.name}: ${from} → ${data.to}${reason}`, notable: this.done };
    }
    if (event.event === "transition" && data.kind === "node") {
      const id = String(data.nodeId);
      const node = this.#node(id);
      node.state = String(data.to);
      if (typeof data.attempt === "number") node.attempt = data.attempt;
      // Every node transition names its last attempt's device (none for server nodes).
      node.deviceId = typeof data.deviceId === "string" ? data.deviceId : null;
      if (node.state === "assigned") node.step = null;
      if (node.state === "removed") this.#nodes.delete(id);
      const where = node.state !== "assigned" && node.state !== "running"
        ? ""
        : node.deviceId !== null
        ? ` on ${name(node.deviceId)}`
        : " on the server";
      const attempt = node.attempt > 0 && where !== "" ? ` (attempt ${node.attempt})` : "";
      const reason = data.reason ? `: ${data.reason}` : "";
      // A failure or a retry is worth keeping on screen above a redrawn block.
      const notable = node.state === "failed" || (data.from !== "pending" && node.state === "pending");
      return { line: `${at} node ${id}: ${data.from} → ${data.to}${where}${attempt}${reason}`, notable };
    }
    if (event.event === "step") {
      const id = String(data.nodeId);
      const node = this.#node(id);
      node.step = `${data.index} ${data.type}`;
      const took = duration(Number(data.endedAt) - Number(data.startedAt));
      const error = data.error as { code?: string; message?: string } | null;
      const outcome = data.ok ? `ok (${took})` : `failed: ${error?.code}: ${error?.message}`;
      return {
        line: `${at} step ${id}#${data.attempt}.${data.index} ${data.type}: ${outcome}`,
        notable: !data.ok,
      };
    }
    if (event.event === "approval") {
      const approval = data.approval as
        | { nodeId?: string; attempt?: number; index?: number; step?: { type?: string }; reason?: string }
        | undefined;
      const why = data.state === "pending" ? approval?.reason : data.reason;
      return {
        line:
          `${at} approval ${approval?.nodeId}#${approval?.attempt}.${approval?.index} ${approval?.step?.type}: ${data.state}${
            why ? ` (${why})` : ""
          }`,
        notable: true,
      };
    }
    return { line: null, notable: false };
  }

  /** Node counts by state: `2 succeeded · 1 running · 3 pending (6 nodes)`. */
  counts(): string {
    const counts = new Map<string, number>();
    for (const node of this.#nodes.values()) counts.set(node.state, (counts.get(node.state) ?? 0) + 1);
    const known = new Set<string>(NODE_STATE_ORDER);
    const parts = [...NODE_STATE_ORDER, ...[...counts.keys()].filter((s) => !known.has(s))]
      .filter((state) => (counts.get(state) ?? 0) > 0)
      .map((state) => `${counts.get(state)} ${state}`);
    return `${parts.join(" · ")} (${this.#nodes.size} nodes)`;
  }

  /** The block a terminal shows, each line at most `width` characters; elapsed as of `elapsedMs`. */
  block(elapsedMs: number, name: DeviceNamer, width: number): string[] {
    const lines = [`DAG ${this.name} (${this.dagId}): ${this.state}, ${duration(elapsedMs)}`];
    lines.push(`  ${this.counts()}`);
    const byDevice = new Map<string, string[]>();
    for (const [id, node] of this.#nodes) {
      if (node.state !== "assigned" && node.state !== "running") continue;
      const where = node.deviceId === null ? "server" : name(node.deviceId);
      const detail = [
        node.state,
        node.attempt > 1 ? `attempt ${node.attempt}` : null,
        node.step !== null ? `after step ${node.step}` : null,
      ].filter((part) => part !== null).join(", ");
      byDevice.set(where, [...(byDevice.get(where) ?? []), `${id} (${detail})`]);
    }
    for (const [where, nodes] of [...byDevice].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${where}: ${nodes.join(", ")}`);
    }
    if (byDevice.size === 0 && !this.done) lines.push("  no node is running");
    return lines.map((line) => truncate(line, Math.max(20, width - 1)));
  }

  #node(id: string): NodeProgress {
    let node = this.#nodes.get(id);
    if (node === undefined) {
      // Added by an edit after the watch began.
      node = { state: "pending", deviceId: null, attempt: 0, step: null };
      this.#nodes.set(id, node);
    }
    return node;
  }
}
