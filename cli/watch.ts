/**
 * Following one DAG to its end over `GET /api/events?dag=ID`: on a terminal a compact block redrawn in
 * place (nodes by state, the node on each device, elapsed), with failures and retries kept above it; else one
 * plain line per change. The stream replays the DAG's history first, so nothing before the watch is missed.
 */
import type { DagView, PublicDevice } from "../shared/api_views.ts";
import { ApiError } from "./api.ts";
import type { CommandContext } from "./command.ts";
import { DagProgress } from "./progress.ts";
import { readSse } from "./sse.ts";

/** The shortest time between two redraws of the progress block. */
export const REDRAW_MS = 50;

/** Device names by id, refreshed from the server when an id is new. */
export class DeviceNames {
  #names = new Map<string, string>();
  constructor(private readonly context: Pick<CommandContext, "api">) {}

  /** Loads the list again (once per unknown id at most). */
  async learn(deviceId?: string | null): Promise<void> {
    if (deviceId !== undefined && (deviceId === null || this.#names.has(deviceId))) return;
    const { devices } = await this.context.api.get<{ devices: PublicDevice[] }>("/api/devices");
    for (const device of devices) this.#names.set(device.id, device.name);
    if (typeof deviceId === "string" && !this.#names.has(deviceId)) {
      this.#names.set(deviceId, deviceId.slice(0, 8));
    }
  }

  /** The device's name, or the start of its id. */
  name = (deviceId: string): string => this.#names.get(deviceId) ?? deviceId.slice(0, 8);
}

/** Follows `dag` until it ends; returns its final view. `startedAtMs` (local clock) starts the elapsed time. */
export async function watchDag(
  context: Pick<CommandContext, "api" | "io" | "signal">,
  dag: DagView,
  startedAtMs: number,
): Promise<DagView> {
  const { api, io } = context;
  const names = new DeviceNames(context);
  await names.learn();
  const progress = new DagProgress(dag.id, dag.name, dag.createdAt, dag.nodes.map((node) => node.id));
  const stop = new AbortController();
  const abort = () => stop.abort();
  context.signal.addEventListener("abort", abort);

  let drawn = 0;
  // Lines to keep above the block (failures, retries), written with the next redraw.
  const above: string[] = [];
  let cancelDraw: (() => void) | null = null;
  const elapsed = () =>
    progress.endedAtMs !== null ? progress.endedAtMs - progress.createdAtMs : io.nowMs() - startedAtMs;
  const redraw = () => {
    cancelDraw?.();
    cancelDraw = null;
    const clear = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : "";
    const block = progress.block(elapsed(), names.name, io.columns());
    io.write(`${clear}${[...above.splice(0), ...block].map((line) => `${line}\n`).join("")}`);
    drawn = block.length;
  };
  // A burst of events (a replay, many nodes ending at once) is drawn once: at most one redraw per
  // REDRAW_MS, so a large DAG costs the terminal a few frames a second, not one per event.
  const scheduleRedraw = () => {
    cancelDraw ??= io.after(REDRAW_MS, redraw);
  };
  const stopTicking = io.isTerminal ? io.every(1000, () => redraw()) : () => {};
  if (io.isTerminal) redraw();
  else io.out(`Watching DAG ${dag.name} (${dag.id}): ${dag.nodes.length} nodes`);

  let endedBy: string | null = null;
  try {
    const response = await api.request("GET", `/api/events?dag=${encodeURIComponent(dag.id)}`, {
      headers: { accept: "text/event-stream" },
      signal: stop.signal,
    });
    for await (const item of readSse(response.body!, stop.signal)) {
      if (item.kind === "comment") {
        if (/key revoked|server shutting down/.test(item.text)) endedBy = item.text;
        continue;
      }
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(item.data);
      } catch {
        continue;
      }
      if (typeof data.deviceId === "string") await names.learn(data.deviceId);
      const { line, notable } = progress.apply({ event: item.event, data }, names.name);
      if (io.isTerminal) {
        if (notable && line !== null) above.push(line);
        scheduleRedraw();
      } else if (line !== null) io.out(line);
      if (progress.done) break;
    }
  } catch (error) {
    if (!context.signal.aborted) throw error;
  } finally {
    stopTicking();
    if (io.isTerminal) redraw();
    context.signal.removeEventListener("abort", abort);
    stop.abort();
  }
  if (context.signal.aborted) throw new ApiError(`Stopped watching: DAG ${dag.id} keeps running`, null, null);
  const view = await api.get<DagView>(`/api/dags/${encodeURIComponent(dag.id)}`);
  if (view.state === "running") {
    throw new ApiError(
      `The event stream ended before DAG ${dag.id} finished${endedBy === null ? "" : ` (${endedBy})`}`,
      null,
      null,
    );
  }
  if (io.isTerminal && !progress.done) {
    progress.state = view.state;
    progress.endedAtMs = view.endedAt;
    redraw();
  }
  return view;
}
