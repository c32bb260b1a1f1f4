/**
 * The HTTP surface: health check, the device WebSocket endpoint, the browser device page (`/device` and
 * its script), the operator dashboard (`/`, its script and style sheet), and the operator REST API.
 */
import { Hono } from "hono";
import type { Transport } from "../../shared/transport/transport.ts";
import { webSocketTransport } from "../../shared/transport/websocket.ts";
import type { KeyStore } from "../auth/key_store.ts";
import type { Logger } from "../log.ts";
import { type AuthVariables, requireScope } from "./auth.ts";
import { type ErrorCode, FailureError } from "../../shared/protocol/mod.ts";
import { errorBody, HttpError } from "./errors.ts";

/** What the app is built from. */
export interface AppDeps {
  keys: KeyStore;
  log: Logger;
  /** Takes over an upgraded device socket (the gateway). */
  acceptDevice(transport: Transport): void;
  /** Operator routes, mounted under /api at their prefix. */
  api: Record<string, Hono<{ Variables: AuthVariables }>>;
  /** What `GET /healthz` reports: 200 when `status` is "ok", else 503 with the report (default ok). */
  health?: () => { status: string } & Record<string, unknown>;
  /** A store failure as a coded error (`storage-full`, `storage-failed`), or null for any other error. */
  storageFailure?: (error: unknown) => { code: ErrorCode; message: string; detail: string } | null;
  /** The browser device client: its page and its script (built from `web/`), served without a token. */
  devicePage?: { html(): Promise<Uint8Array>; script(): Promise<Uint8Array> };
  /** The operator dashboard (built from `web/dashboard/`): page, script and style sheet, served without a token. */
  dashboard?: { html(): Promise<Uint8Array>; script(): Promise<Uint8Array>; css(): Promise<Uint8Array> };
}

/** What the device page may load and connect to: only this server. */
const DEVICE_PAGE_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; " +
  "img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'";

/**
 * What the dashboard may load and connect to: only this server (no CDN, no inline script or style
 * attributes); frames and artifacts it fetched with the token are shown through `blob:` URLs.
 */
const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data: blob:; media-src 'self' blob:; form-action 'self'; base-uri 'none'; " +
  "frame-ancestors 'none'";

/** The device endpoint's path. */
export const DEVICE_PATH = "/v1/device";

const SCRIPT_HEADERS = { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" };

function htmlHeaders(csp: string): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-cache",
    "content-security-policy": csp,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  };
}

function bytes(data: Uint8Array): ArrayBuffer {
  return data.slice().buffer as ArrayBuffer;
}

/** A bundle, or 500 `internal` (logged) when it cannot be built. */
async function built(log: Logger, what: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await build();
  } catch (error) {
    log.error(`Cannot build ${what}`, { error: String(error) });
    throw new HttpError("internal", `Internal error: cannot build ${what}`);
  }
}

/** Builds the Hono app; errors become `{"error": {"code", "message"}}` in one place. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => {
    const report = deps.health?.() ?? { status: "ok" };
    return c.json(report, report.status === "ok" ? 200 : 503);
  });
  app.get(DEVICE_PATH, (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError("upgrade-required", "Cannot serve device endpoint: use a WebSocket upgrade");
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 0 });
    deps.acceptDevice(webSocketTransport(socket));
    return response;
  });
  const page = deps.devicePage;
  if (page !== undefined) {
    app.get("/device", async (c) => c.body(bytes(await page.html()), 200, htmlHeaders(DEVICE_PAGE_CSP)));
    app.get("/device.js", async (c) => {
      const script = await built(deps.log, "the device page's script", page.script);
      return c.body(bytes(script), 200, SCRIPT_HEADERS);
    });
  }
  const dashboard = deps.dashboard;
  if (dashboard !== undefined) {
    app.get("/", async (c) => c.body(bytes(await dashboard.html()), 200, htmlHeaders(DASHBOARD_CSP)));
    app.get("/dashboard.js", async (c) => {
      const script = await built(deps.log, "the dashboard's script", dashboard.script);
      return c.body(bytes(script), 200, SCRIPT_HEADERS);
    });
    app.get("/dashboard.css", async (c) =>
      c.body(bytes(await dashboard.css()), 200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "no-cache",
      }));
  }
  const api = new Hono<{ Variables: AuthVariables }>();
  api.use("*", requireScope(deps.keys, "operator"));
  for (const [prefix, routes] of Object.entries(deps.api)) api.route(prefix, routes);
  app.route("/api", api);

  app.notFound(() => {
    throw new HttpError("not-found");
  });
  app.onError((thrown, c) => {
    const error = thrown instanceof FailureError ? HttpError.of(thrown.failure) : thrown;
    if (error instanceof HttpError) {
      return c.json(errorBody(error.code, error.message, error.details), error.status);
    }
    const storage = deps.storageFailure?.(error) ?? null;
    if (storage !== null) {
      deps.log.error("request refused by the store", {
        path: c.req.path,
        code: storage.code,
        sqlite: storage.detail,
      });
      const refused = HttpError.of(storage);
      return c.json(errorBody(refused.code, refused.message), refused.status);
    }
    deps.log.error("request failed", { path: c.req.path, error: String(error) });
    const internal = new HttpError("internal");
    return c.json(errorBody(internal.code, internal.message), internal.status);
  });
  return app;
}
