/** `events`: follows `GET /api/events`, one line per event (`--json`: the event's data as the server sent it). */
import { ApiError } from "./api.ts";
import { type Command, EXIT } from "./command.ts";
import { UsageError } from "./config.ts";
import { clockTime, duration } from "./format.ts";
import { readSse } from "./sse.ts";
import { DeviceNames } from "./watch.ts";

/** One line for an event: time, id, what changed. */
export function eventLine(
  event: string,
  data: Record<string, unknown>,
  name: (deviceId: string) => string = (id) => id,
): string {
  const head = `${clockTime(Number(data.atMs))} #${data.id}`;
  const dag = typeof data.dagId === "string" ? ` dag ${data.dagId}` : "";
  const reason = data.reason ? ` (${data.reason})` : "";
  if (event === "device") {
    return `${head} device ${data.name}: ${data.from ?? "new"} → ${data.to}${reason}`;
  }
  if (event === "transition" && data.kind === "dag") {
    return `${head}${dag}: ${data.from ?? "new"} → ${data.to}${reason}`;
  }
  if (event === "transition") {
    const attempt = typeof data.attempt === "number" ? `#${data.attempt}` : "";
    const device = typeof data.deviceId === "string" ? ` on ${name(data.deviceId)}` : "";
    return `${head}${dag} node ${data.nodeId}${attempt}: ${data.from} → ${data.to}${device}${reason}`;
  }
  if (event === "step") {
    const error = data.error as { code?: string; message?: string } | null;
    const outcome = data.ok
      ? `ok (${duration(Number(data.endedAt) - Number(data.startedAt))})`
      : `failed: ${error?.code}: ${error?.message}`;
    return `${head}${dag} step ${data.nodeId}#${data.attempt}.${data.index} ${data.type}: ${outcome}`;
  }
  if (event === "approval") {
    const approval = data.approval as
      | { nodeId?: string; step?: { type?: string }; reason?: string }
      | undefined;
    return `${head}${dag} approval ${approval?.nodeId} ${approval?.step?.type}: ${data.state}${reason}`;
  }
  return `${head} ${event} ${JSON.stringify(data)}`;
}

const events: Command = {
  words: ["events"],
  args: "",
  summary: "follow the event stream (transitions, steps, devices), one line per event",
  details: [
    "Starts with new events; --all replays the whole history first, --after ID resumes after an event id.",
    "Ends (exit 1) when the server ends the stream: shutdown, or the token was revoked.",
  ],
  flags: [
    {
      name: "dag",
      type: "string",
      value: "ID",
      description: "One DAG's transitions and steps (no device events)",
    },
    { name: "all", type: "boolean", description: "Replay the whole history first" },
    { name: "after", type: "string", value: "EVENT_ID", description: "Replay from after this event id" },
    { name: "json", type: "boolean", description: "Print each event's data: JSON as the server sent it" },
  ],
  minArgs: 0,
  maxArgs: 0,
  async run({ api, io, values, signal }) {
    if (values.all && values.after !== undefined) {
      throw new UsageError("--all and --after exclude each other");
    }
    if (typeof values.after === "string" && !/^\d+$/.test(values.after)) {
      throw new UsageError("--after takes an event id (a number)");
    }
    const query = new URLSearchParams();
    if (typeof values.dag === "string") query.set("dag", values.dag);
    // The server starts after a known id; from the newest event for an id that is not a number.
    if (!values.all) query.set("lastEventId", typeof values.after === "string" ? values.after : "now");
    const response = await api.request("GET", `/api/events?${query}`, {
      headers: { accept: "text/event-stream" },
      signal,
    });
    const names = new DeviceNames({ api });
    let endedBy = "the server closed it";
    try {
      for await (const item of readSse(response.body!, signal)) {
        if (item.kind === "comment") {
          if (item.text === "connected") io.err(`Following events from ${api.server} (Ctrl-C to stop).`);
          else if (item.text !== "keep-alive") endedBy = item.text;
          continue;
        }
        if (values.json) {
          io.out(item.data);
          continue;
        }
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(item.data);
        } catch {
          io.out(`${item.event} ${item.data}`);
          continue;
        }
        if (item.event !== "device" && typeof data.deviceId === "string") await names.learn(data.deviceId);
        io.out(eventLine(item.event, data, names.name));
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    if (signal.aborted) return EXIT.interrupted;
    throw new ApiError(`The event stream ended: ${endedBy}`, null, null);
  },
};

/** The event commands. */
export const EVENT_COMMANDS: readonly Command[] = [events];
