/**
 * Device routes: list and inspect devices (with their media path and rates), forget an offline one, drive
 * one with action objects, fetch a fresh frame, open a live-view viewer peer.
 */
import { Hono } from "hono";
import { z } from "zod";
import { FrameActionSchema, OperatorActionSchema } from "../../shared/actions.ts";
import type { StreamFrame } from "../../shared/protocol/mod.ts";
import type { StepExecutor } from "../brain/steps.ts";
import type { ActionDispatcher, ActionOutcome } from "../gateway/action_dispatcher.ts";
import { ActionFrames } from "./action_frames.ts";
import type { DeviceView, Gateway } from "../gateway/types.ts";
import type { OrionService } from "../orion/service.ts";
import { type MediaService, type MediaView, ViewerError } from "../media/mod.ts";
import type { AuthVariables } from "../http/auth.ts";
import { readBody } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { firstIssue } from "../../shared/protocol/errors.ts";

/** A device as `GET /api/devices` shows it; `busy` (a GUI node holds its screen) is the scheduler's fact. */
export function publicDevice(device: DeviceView, busy: boolean, media?: MediaView) {
  const { id, name, state, rttMs, lastSeen, capabilities } = device;
  return {
    id,
    name,
    state: state === "ready" && busy ? "busy" : state,
    rttMs: rttMs === null ? null : Math.round(rttMs * 1000) / 1000,
    lastSeen,
    capabilities,
    ...(media === undefined ? {} : { media }),
  };
}

const ViewerOfferSchema = z.object({ sdp: z.string().min(1).max(200_000) });

function failed(outcome: ActionOutcome): never {
  if (outcome.ok) throw new Error("unreachable");
  throw HttpError.of(outcome.error);
}

/** The headers of a frame served as an image. */
function frameHeaders({ meta }: StreamFrame): Record<string, string> {
  return {
    "content-type": meta.format === "png" ? "image/png" : "image/jpeg",
    "x-frame-width": String(meta.width),
    "x-frame-height": String(meta.height),
    "x-original-width": String(meta.originalWidth),
    "x-original-height": String(meta.originalHeight),
    "x-captured-at": String(meta.capturedAtMs),
  };
}

function imageBody(frame: StreamFrame): ArrayBuffer {
  return frame.image.slice().buffer as ArrayBuffer;
}

/** Whether the request's first choice (by q, then order) in `Accept` is an image type. */
export function prefersImage(accept: string | undefined): boolean {
  const ranges = (accept ?? "").split(",").map((part, index) => {
    const [range, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return { range: range.trim(), q: q === undefined ? 1 : Number(q.slice(2)), index };
  }).filter((r) => r.range !== "" && r.q > 0).sort((a, b) => b.q - a.q || a.index - b.index);
  return ranges[0]?.range.startsWith("image/") ?? false;
}

const FrameQuerySchema = z.object({
  format: FrameActionSchema.shape.format,
  scale: z.coerce.number().gt(0).max(1).default(1),
  quality: z.coerce.number().int().min(1).max(100).default(80),
});

/** Routes under /api/devices. */
export function deviceRoutes(
  deps: {
    gateway: Gateway;
    dispatcher: ActionDispatcher;
    orion: Pick<OrionService, "isBusy" | "operatorActive">;
    media?: Pick<MediaService, "view" | "openViewer" | "closeViewer">;
    /** Runs `waitFor` and `clickText` asked for by an operator (the Brain's step executor). */
    steps?: Pick<StepExecutor, "execute">;
    /** Forgets an offline device; null when it is not offline. */
    forget: (device: DeviceView) => DeviceView | null;
  },
) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  // What `frame` actions took, for `GET /:id/frames/:actionId`: the newest 16, in memory.
  const frames = new ActionFrames();
  const find = (id: string) => {
    const device = deps.gateway.device(id);
    if (device === undefined) throw new HttpError("unknown-device", `Cannot find device ${id}`);
    return device;
  };

  const view = (device: DeviceView) =>
    publicDevice(device, deps.orion.isBusy(device.id), deps.media?.view(device));
  routes.get("/", (c) => c.json({ devices: deps.gateway.devices().map(view) }));
  routes.get("/:id", (c) => c.json(view(find(c.req.param("id")))));
  routes.delete("/:id", (c) => {
    const device = find(c.req.param("id"));
    const forgotten = device.state === "offline" ? deps.forget(device) : null;
    if (forgotten === null) {
      throw new HttpError(
        "device-online",
        `Cannot forget device: it is connected: ${device.name} is ${device.state}; stop its client or revoke its key first`,
      );
    }
    return c.json(publicDevice(forgotten, false));
  });

  routes.post("/:id/actions", async (c) => {
    const device = find(c.req.param("id"));
    const action = await readBody(c, OperatorActionSchema);
    // A capture only reads the screen; anything else would fight the GUI node that holds it.
    if (action.type !== "frame" && deps.orion.isBusy(device.id)) {
      throw new HttpError("device-busy", `Cannot start work: device is busy: ${device.name} runs a task`);
    }
    if (action.type !== "frame") deps.orion.operatorActive(device.id);
    if (action.type === "waitFor" || action.type === "clickText") {
      // Decided on the server: look (frame + OCR), then act; the request waits as long as the step may.
      if (deps.steps === undefined) throw new HttpError("internal", "steps that look are not wired here");
      const step = await deps.steps.execute(action, { deviceId: device.id, signal: c.req.raw.signal });
      deps.orion.operatorActive(device.id);
      if (!step.ok) throw HttpError.of(step.error);
      return c.json({ ok: true, output: step.output ?? null });
    }
    const outcome = await deps.dispatcher.execute(device.id, action);
    if (!outcome.ok) failed(outcome);
    const { actionId, output, timings } = outcome;
    const answer = {
      actionId,
      ok: true,
      output: output ?? null,
      timings: timings ?? null,
      rttMs: outcome.answeredAtMs - outcome.sentAtMs,
    };
    if (action.type !== "frame") return c.json(answer);
    // A capture answers with its image: the bytes for `Accept: image/*`, else JSON linking to them.
    const frame = outcome.frame;
    if (prefersImage(c.req.header("accept"))) {
      if (frame === undefined) throw new HttpError("no-frame", "Cannot return frame: the device sent none");
      return c.body(imageBody(frame), 200, { ...frameHeaders(frame), "x-action-id": actionId });
    }
    if (frame === undefined) return c.json({ ...answer, frame: null });
    const kept = frames.put(device.id, actionId, frame);
    const { actionId: _, ...meta } = frame.meta;
    return c.json({
      ...answer,
      frame: {
        ...meta,
        byteLength: frame.image.byteLength,
        url: kept
          ? `/api/devices/${encodeURIComponent(device.id)}/frames/${encodeURIComponent(actionId)}`
          : null,
      },
    });
  });

  routes.get("/:id/frames/:actionId", (c) => {
    const device = find(c.req.param("id"));
    const actionId = c.req.param("actionId");
    const frame = frames.get(device.id, actionId);
    if (frame === undefined) {
      throw new HttpError(
        "unknown-frame",
        `Cannot find frame: action ${actionId} on ${device.name} kept none, or newer frames replaced it`,
      );
    }
    return c.body(imageBody(frame), 200, frameHeaders(frame));
  });

  routes.post("/:id/ping", async (c) => {
    const device = find(c.req.param("id"));
    if (device.state !== "ready") {
      throw new HttpError("device-offline", `Cannot reach device: it is ${device.state}: ${device.name}`);
    }
    const rttMs = await deps.gateway.ping(device.id);
    if (rttMs === null) throw new HttpError("timeout", `Stopped: no PONG from ${device.name} in time`);
    return c.json({ id: device.id, rttMs: Math.round(rttMs * 1000) / 1000 });
  });

  routes.get("/:id/frame", async (c) => {
    const device = find(c.req.param("id"));
    const query = FrameQuerySchema.safeParse(c.req.query());
    if (!query.success) {
      throw new HttpError("invalid-query", `Cannot accept query: ${firstIssue(query.error)}`);
    }
    const outcome = await deps.dispatcher.execute(device.id, { type: "frame", ...query.data });
    if (!outcome.ok) failed(outcome);
    if (outcome.frame === undefined) {
      throw new HttpError("no-frame", "Cannot return frame: the device sent none");
    }
    return c.body(imageBody(outcome.frame), 200, frameHeaders(outcome.frame));
  });
  // Live view: the viewer's SDP offer in, the server's answer out (one round trip, as WHEP does).
  routes.post("/:id/viewer", async (c) => {
    const device = find(c.req.param("id"));
    const { sdp } = await readBody(c, ViewerOfferSchema);
    if (deps.media === undefined) throw new HttpError("no-video");
    if (device.state === "offline") {
      throw new HttpError("device-offline", `Cannot reach device: it is offline: ${device.name}`);
    }
    try {
      const { viewerId, sdp: answer } = await deps.media.openViewer(device.id, sdp);
      return c.json({ viewerId, deviceId: device.id, sdp: answer }, 201);
    } catch (error) {
      if (error instanceof ViewerError) throw new HttpError(error.code, error.message);
      throw error;
    }
  });

  routes.delete("/:id/viewer/:viewerId", async (c) => {
    const device = find(c.req.param("id"));
    const viewerId = c.req.param("viewerId");
    if (!(await deps.media?.closeViewer(device.id, viewerId))) {
      throw new HttpError("not-found", `Cannot find the route: no viewer ${viewerId} of ${device.name}`);
    }
    return c.body(null, 204);
  });
  return routes;
}
