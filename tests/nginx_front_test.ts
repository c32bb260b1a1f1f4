/**
 * The shipped nginx config (deploy/nginx/alien3.conf) in front of a real server: it closes connections
 * that trickle their request head or body, caps concurrent requests per address, refuses bodies over
 * 16 MiB with the server's own error shape, and passes REST, SSE and the device WebSocket through.
 * Timeouts are shortened to 1 s and the cap lowered to 3 so the test runs quickly.
 */
import assert from "node:assert/strict";
import { startClient } from "./helpers/client_process.ts";
import { until } from "./helpers/gateway_harness.ts";
import { type Nginx, type NginxTls, startNginx } from "./helpers/nginx.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { RawHttp } from "./helpers/raw_http.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { SseStream } from "./helpers/sse.ts";
import { selfSignedCertificate } from "./helpers/tls.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const MiB = 1024 * 1024;
const FAST = {
  client_header_timeout: "1s",
  client_body_timeout: "1s",
  "limit_conn alien3_per_ip": "3",
};

/** What a test behind the front gets: the server, nginx, an operator fetch through nginx, raw connections. */
interface Front {
  server: TestServer;
  nginx: Nginx;
  api: (path: string, init?: RequestInit) => Promise<Response>;
  /** A raw HTTP connection to nginx, closed when the test ends. */
  openRaw(): Promise<RawHttp>;
}

/**
 * Runs `run` against a test server behind nginx with the shipped config (the FAST timeouts unless `overrides`
 * says otherwise; TLS when given `tls`); a failure carries nginx's error log.
 */
async function withFront(
  run: (front: Front) => Promise<void>,
  options: { overrides?: Record<string, string>; tls?: NginxTls } = {},
): Promise<void> {
  const server = await startTestServer();
  const nginx = await startNginx(server.port, options.overrides ?? FAST, options.tls).catch(async (error) => {
    await server.close();
    throw error;
  });
  const api = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${server.operatorToken}`);
    return fetch(`${nginx.url}${path}`, { ...init, headers });
  };
  const opened: RawHttp[] = [];
  const openRaw = async () => {
    const connection = await RawHttp.open(nginx.port);
    opened.push(connection);
    return connection;
  };
  try {
    await run({ server, nginx, api, openRaw });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nnginx error log:\n${await nginx.errorLog()}`, {
      cause: error,
    });
  } finally {
    for (const connection of opened) connection.close();
    await nginx.stop();
    await server.close();
  }
}

Deno.test(
  "behind the shipped nginx config, a connection trickling its request head is closed after client_header_timeout",
  live,
  async () => {
    await withFront(async ({ api, openRaw }) => {
      const raw = await openRaw();
      await raw.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n");
      const trickle = setInterval(() => raw.write(`x-trickle-${Date.now()}: 1\r\n`).catch(() => {}), 200);
      try {
        assert.equal(await raw.closedWithin(5_000), true, "nginx closed the trickling connection");
      } finally {
        clearInterval(trickle);
      }
      assert.equal((await (await api("/healthz")).json()).status, "ok", "others are still served");
    });
  },
);

Deno.test(
  "behind the shipped nginx config, a request whose body stalls is closed after client_body_timeout",
  live,
  async () => {
    await withFront(async ({ server, openRaw }) => {
      const raw = await openRaw();
      await raw.write(
        `POST /api/dags HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${server.operatorToken}\r\n` +
          'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"name":',
      );
      assert.equal(await raw.closedWithin(5_000), true, "nginx closed the stalled upload");
      const dags = await server.api("/api/dags");
      assert.deepEqual((await dags.json()).dags, [], "the half body never reached the server");
    });
  },
);

Deno.test(
  "behind the shipped nginx config, bodies over 16 MiB are refused with 413 body-too-large before reaching the server",
  live,
  async () => {
    await withFront(async ({ server, openRaw }) => {
      const raw = await openRaw();
      await raw.write(
        `POST /api/dags HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${server.operatorToken}\r\n` +
          `content-length: ${100 * MiB}\r\n\r\n`,
      );
      const response = await raw.readResponse();
      assert.equal(response.status, 413);
      assert.equal(JSON.parse(response.body).error.code, "body-too-large");
    });
  },
);

Deno.test(
  "behind the shipped nginx config, concurrent requests from one address are capped with 429 rate-limited",
  live,
  async () => {
    await withFront(async ({ api }) => {
      const streams: SseStream[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const stream = new SseStream(await api("/api/events"));
          streams.push(stream);
          await stream.comment("connected");
        }
        const fourth = await api("/api/events");
        assert.equal(fourth.status, 429);
        assert.equal((await fourth.json()).error.code, "rate-limited");
      } finally {
        await Promise.all(streams.map((stream) => stream.close()));
      }
    });
  },
);

Deno.test(
  "behind the shipped nginx config, REST, live SSE events and the device WebSocket pass through",
  live,
  async () => {
    await withFront(async ({ server, nginx, api }) => {
      const stream = new SseStream(await api("/api/events"));
      const device = await RawDevice.open(nginx.wsUrl);
      try {
        await stream.comment("connected");
        const { ready } = await device.handshake(server.deviceKey, "proxied");
        const online = await stream.next((e) => e.event === "device");
        assert.equal(online.data.deviceId, ready.payload.deviceId);
        const devices = await (await api("/api/devices")).json();
        assert.deepEqual(devices.devices.map((d: { name: string }) => d.name), ["proxied"]);
        const submitted = await api("/api/dags", {
          method: "POST",
          body: JSON.stringify({ name: "d", nodes: [{ id: "a", kind: "server", op: { sleepMs: 1 } }] }),
        });
        assert.equal(submitted.status, 201);
        const { id } = await submitted.json();
        const ended = await stream.next((e) =>
          e.data.dagId === id && e.data.kind === "dag" && e.data.to !== "running"
        );
        assert.equal(ended.data.to, "succeeded", "the event arrived live, not held in a proxy buffer");
      } finally {
        await device.close();
        await stream.close();
      }
    });
  },
);

Deno.test(
  "behind the shipped nginx config with its TLS line enabled (the README recipe), the real client joins over wss:// with --ca-file",
  live,
  async () => {
    const cert = await selfSignedCertificate("localhost,127.0.0.1");
    try {
      await withFront(async ({ server, nginx }) => {
        const client = await startClient(nginx.wsUrl, server.deviceKey, "behind-tls-proxy", {
          extraArgs: ["--ca-file", cert.caFile],
        });
        const https = Deno.createHttpClient({ caCerts: [cert.ca] });
        try {
          assert.match(nginx.wsUrl, /^wss:/);
          await until(
            () => server.gateway.devices().some((d) => d.name === "behind-tls-proxy" && d.state === "ready"),
            "the device joined through nginx",
            20_000,
          );
          const health = await fetch(`${nginx.url}/healthz`, { client: https });
          assert.deepEqual(await health.json(), { status: "ok" }, "HTTPS through nginx reaches the server");
        } finally {
          https.close();
          await client.stop();
        }
      }, { overrides: {}, tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    } finally {
      await cert.remove();
    }
  },
);
