/**
 * The devices as the dashboard knows them: the REST list, corrected live by `device` events, and what each
 * device is doing now (its current nodes, from `transition` events) and did lately (its steps, from `step`
 * events, matched to the device through the attempt that ran them). Pure: events and lists in, state out.
 */
import type { FeedEvent } from "./events.ts";
import { isFinal } from "./format.ts";
import type { DagView, Device, StepView } from "./types.ts";

/** A node a device runs now. */
export interface CurrentNode {
  dagId: string;
  nodeId: string;
  attempt: number;
  state: string;
}

/** A step a device took, with the DAG node it belonged to. */
export interface DeviceStep extends StepView {
  dagId: string;
  nodeId: string;
}

/** Steps kept per device. */
const RECENT_STEPS = 50;

const attemptKey = (dagId: string, nodeId: string, attempt: number) => `${dagId}\n${nodeId}\n${attempt}`;

/** The fleet model. */
export class Fleet {
  readonly devices = new Map<string, Device>();
  /** Device id → the nodes it runs now. */
  readonly current = new Map<string, CurrentNode[]>();
  /** Device id → its latest steps, newest first. */
  readonly steps = new Map<string, DeviceStep[]>();
  /** Which device ran each attempt (learnt from transitions and DAG views). */
  readonly #attempts = new Map<string, string>();

  /** Replaces the list with the server's (the REST answer is the truth for everything it carries). */
  setDevices(devices: readonly Device[]): void {
    this.devices.clear();
    for (const device of devices) this.devices.set(device.id, device);
  }

  /** A device by id or name. */
  find(idOrName: string): Device | undefined {
    return this.devices.get(idOrName) ?? [...this.devices.values()].find((d) => d.name === idOrName);
  }

  /** The devices in the order the table shows them: online first, then by name. */
  sorted(): Device[] {
    const rank = (d: Device) => (d.state === "offline" ? 1 : 0);
    return [...this.devices.values()].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  }

  /** Learns current nodes and attempts' devices from DAG views (at start, before events arrive). */
  learnDags(views: readonly DagView[]): void {
    for (const view of views) {
      for (const node of view.nodes) {
        for (const attempt of node.attempts) {
          if (attempt.deviceId === null) continue;
          this.#attempts.set(attemptKey(view.id, node.id, attempt.attempt), attempt.deviceId);
          if (attempt.outcome === "in-flight" && !isFinal(node.state)) {
            this.#setCurrent(attempt.deviceId, {
              dagId: view.id,
              nodeId: node.id,
              attempt: attempt.attempt,
              state: node.state,
            });
          }
        }
      }
    }
  }

  /** Adds steps fetched for one attempt's node (history, before the live ones). */
  learnSteps(deviceId: string, dagId: string, nodeId: string, steps: readonly StepView[]): void {
    const list = this.steps.get(deviceId) ?? [];
    const known = new Set(list.map((s) => attemptKey(s.dagId, s.nodeId, s.attempt) + `\n${s.index}`));
    for (const step of steps) {
      if (this.#attempts.get(attemptKey(dagId, nodeId, step.attempt)) !== deviceId) continue;
      if (known.has(attemptKey(dagId, nodeId, step.attempt) + `\n${step.index}`)) continue;
      list.push({ ...step, dagId, nodeId });
    }
    list.sort((a, b) => b.endedAt - a.endedAt);
    this.steps.set(deviceId, list.slice(0, RECENT_STEPS));
  }

  /** Applies one live event; returns the id of the device it changed, or null. */
  apply(event: FeedEvent): string | null {
    const data = event.data;
    if (event.event === "device") {
      const device = this.devices.get(String(data.deviceId));
      if (device !== undefined) device.state = String(data.to);
      else {
        this.devices.set(String(data.deviceId), {
          id: String(data.deviceId),
          name: String(data.name),
          state: String(data.to),
          rttMs: null,
          lastSeen: null,
          capabilities: null,
        });
      }
      if (data.to === "offline") this.current.delete(String(data.deviceId));
      return String(data.deviceId);
    }
    if (event.event === "transition" && data.kind === "node") {
      const dagId = String(data.dagId);
      const nodeId = String(data.nodeId);
      const to = String(data.to);
      if (typeof data.deviceId === "string" && typeof data.attempt === "number") {
        this.#attempts.set(attemptKey(dagId, nodeId, data.attempt), data.deviceId);
        if (to === "assigned" || to === "running") {
          this.#setCurrent(data.deviceId, { dagId, nodeId, attempt: data.attempt, state: to });
          return data.deviceId;
        }
      }
      // Any other state ends the node's stay on whichever device held it.
      for (const [deviceId, nodes] of this.current) {
        const left = nodes.filter((n) => !(n.dagId === dagId && n.nodeId === nodeId));
        if (left.length === nodes.length) continue;
        if (left.length === 0) this.current.delete(deviceId);
        else this.current.set(deviceId, left);
        return deviceId;
      }
      return null;
    }
    if (event.event === "step") {
      const dagId = String(data.dagId);
      const nodeId = String(data.nodeId);
      const deviceId = this.#attempts.get(attemptKey(dagId, nodeId, Number(data.attempt)));
      if (deviceId === undefined) return null;
      const step = data as unknown as StepView;
      const list = this.steps.get(deviceId) ?? [];
      list.unshift({ ...step, dagId, nodeId });
      this.steps.set(deviceId, list.slice(0, RECENT_STEPS));
      return deviceId;
    }
    return null;
  }

  #setCurrent(deviceId: string, node: CurrentNode): void {
    const nodes = (this.current.get(deviceId) ?? []).filter(
      (n) => !(n.dagId === node.dagId && n.nodeId === node.nodeId),
    );
    nodes.push(node);
    this.current.set(deviceId, nodes);
  }
}
