/**
 * `GET /api/events`: Server-Sent Events of every DAG and node transition (`event: transition`), every step
 * a node attempt took (`event: step`) and every device state change (`event: device`), each with an
 * increasing `id:` from one sequence. A client that reconnects with `Last-Event-ID` (header or
 * `?lastEventId=`) first gets everything it missed; an id the server never issued (malformed, or beyond the
 * newest) resumes from the newest event, and a `: replayed` comment follows what was missed. `?dag=ID` keeps
 * one DAG's transitions and steps only. A stream
 * ends when its token is revoked or the server shuts down.
 */
import { Hono } from "hono";
import { systemClock, type Timers } from "../../shared/clock.ts";
import type { KeyVerifier } from "../auth/types.ts";
import type { AuthVariables } from "../http/auth.ts";
import { type EventLog, isDeviceEvent, isStepEvent, type LoggedEvent } from "../orion/event_log.ts";

const encoder = new TextEncoder();

function frame(event: LoggedEvent): Uint8Array {
  if (isDeviceEvent(event)) {
    const payload = { id: event.id, atMs: event.atMs, ...event.data };
    return encoder.encode(`id: ${event.id}\nevent: device\ndata: ${JSON.stringify(payload)}\n\n`);
  }
  const payload = { id: event.id, dagId: event.dagId, atMs: event.atMs, ...event.data };
  const name = isStepEvent(event) ? "step" : event.data.kind === "approval" ? "approval" : "transition";
  return encoder.encode(`id: ${event.id}\nevent: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
}

/**
 * The id after which to replay: none → 0 (the whole history); a known id → that id; anything else
 * (not decimal digits, or beyond the newest event) → the newest, so live events flow at once.
 */
export function replayAfter(lastEventId: string | undefined, newestId: number): number {
  if (lastEventId === undefined || lastEventId.trim() === "") return 0;
  if (!/^\d{1,16}$/.test(lastEventId.trim())) return newestId;
  const id = Number(lastEventId);
  return id <= newestId ? id : newestId;
}

/** What the event routes need. */
export interface EventRouteOptions {
  /** Streams end when the key they were opened with is revoked. */
  keys: Pick<KeyVerifier, "onRevoke">;
  /** Aborting ends every open stream (server shutdown). */
  signal?: AbortSignal;
  /** Comment sent on an idle stream (default 15 s). */
  keepAliveMs?: number;
  clock?: Timers;
}

/** Routes under /api/events. */
export function eventRoutes(log: EventLog, options: EventRouteOptions) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.get("/", (c) => {
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("lastEventId");
    const dagId = c.req.query("dag");
    const keyId = c.get("key").id;
    let cleanup = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let ended = false;
        const end = (why: string) => {
          if (ended) return;
          ended = true;
          cleanup();
          try {
            controller.enqueue(encoder.encode(`: ${why}\n\n`));
            controller.close();
          } catch {
            // The client went away first; its cancel() may still be on its way.
          }
        };
        let sentId = 0;
        const send = (event: LoggedEvent) => {
          if (ended || event.id <= sentId || (dagId !== undefined && event.dagId !== dagId)) return;
          sentId = event.id;
          try {
            controller.enqueue(frame(event));
          } catch {
            // A publisher (the Orion service, the gateway) must never see a gone client's error.
            end("client gone");
          }
        };
        const buffered: LoggedEvent[] = [];
        let replaying = true;
        const unsubscribe = log.subscribe((event) => replaying ? buffered.push(event) : send(event));
        // Read after subscribing: an event appended in between is in the buffer, not lost.
        sentId = replayAfter(lastEventId, log.newestId());
        const stopRevokeWatch = options.keys.onRevoke((revoked) => {
          if (revoked === keyId) end("key revoked");
        });
        const shutdown = () => end("server shutting down");
        options.signal?.addEventListener("abort", shutdown);
        const clock = options.clock ?? systemClock;
        const keepAlive = clock.setInterval(() => {
          try {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
          } catch {
            end("client gone");
          }
        }, options.keepAliveMs ?? 15_000);
        cleanup = () => {
          clock.clearInterval(keepAlive);
          unsubscribe();
          stopRevokeWatch();
          options.signal?.removeEventListener("abort", shutdown);
        };
        controller.enqueue(encoder.encode(": connected\nretry: 1000\n\n"));
        for (let page = log.since(sentId, dagId); page.length > 0; page = log.since(sentId, dagId)) {
          for (const event of page) send(event);
        }
        replaying = false;
        for (const event of buffered) send(event);
        // A marker after the history: a client knows it has caught up without waiting for silence.
        if (!ended) controller.enqueue(encoder.encode(": replayed\n\n"));
        if (options.signal?.aborted) shutdown();
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
    });
  });
  return routes;
}
