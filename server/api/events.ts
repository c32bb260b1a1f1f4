/**
 * `GET /api/events`: Server-Sent Events of every transition, each with an increasing `id:`. A client
 * that reconnects with `Last-Event-ID` (header or `?lastEventId=`) first gets everything it missed.
 */
import { Hono } from "hono";
import type { AuthVariables } from "../http/auth.ts";
import type { EventLog, LoggedEvent } from "../orion/event_log.ts";

const encoder = new TextEncoder();

function frame(event: LoggedEvent): Uint8Array {
  const payload = { id: event.id, dagId: event.dagId, atMs: event.atMs, ...event.data };
  return encoder.encode(`id: ${event.id}\nevent: transition\ndata: ${JSON.stringify(payload)}\n\n`);
}

/** Routes under /api/events. */
export function eventRoutes(log: EventLog, options: { keepAliveMs?: number } = {}) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.get("/", (c) => {
    const lastId = Number(c.req.header("last-event-id") ?? c.req.query("lastEventId") ?? 0);
    const dagId = c.req.query("dag");
    let sentId = Number.isFinite(lastId) && lastId > 0 ? lastId : 0;
    let cleanup = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const buffered: LoggedEvent[] = [];
        let replaying = true;
        const send = (event: LoggedEvent) => {
          if (event.id <= sentId || (dagId !== undefined && event.dagId !== dagId)) return;
          sentId = event.id;
          controller.enqueue(frame(event));
        };
        const unsubscribe = log.subscribe((event) => replaying ? buffered.push(event) : send(event));
        controller.enqueue(encoder.encode(": connected\nretry: 1000\n\n"));
        for (let page = log.since(sentId, dagId); page.length > 0; page = log.since(sentId, dagId)) {
          for (const event of page) send(event);
        }
        replaying = false;
        for (const event of buffered) send(event);
        const keepAlive = setInterval(
          () => controller.enqueue(encoder.encode(": keep-alive\n\n")),
          options.keepAliveMs ?? 15_000,
        );
        cleanup = () => {
          clearInterval(keepAlive);
          unsubscribe();
        };
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
