/**
 * Action round trip: operator REST → server → client → Node helper → X server → RESULT, p50/p99, with the
 * share of each hop estimated from per-hop measurements taken in the same run.
 */
import { HelperProcess } from "../client/helper_process.ts";
import { startClient } from "../tests/helpers/client_process.ts";
import { until } from "../tests/helpers/gateway_harness.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";
import { ascending, percentile } from "./stats.ts";

const N = 300;
const pct = (values: number[], p: number) => percentile(ascending(values), p);

async function time(n: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await run(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run(i);
    out.push(performance.now() - started);
  }
  return out;
}

const x = await startXServer();
const server = await startTestServer(["--max-messages-per-second", "100000"]);
const client = await startClient(server.wsUrl, server.deviceKey, "bench-x11", {
  env: { DISPLAY: x.display },
});
const helper = new HelperProcess({ env: { DISPLAY: x.display } });
try {
  await until(() => server.gateway.devices().some((d) => d.state === "ready"), "the client", 20_000);
  const deviceId = server.gateway.devices()[0].id;
  const full = await time(
    N,
    (i) =>
      server.api(`/api/devices/${deviceId}/actions`, {
        method: "POST",
        body: JSON.stringify({ type: "move", x: 100 + (i % 500), y: 100 }),
      })
        .then((r) => r.arrayBuffer()),
  );
  const http = await time(N, () => server.api("/healthz", { token: null }).then((r) => r.arrayBuffer()));
  const ws = await time(N, () => server.gateway.ping(deviceId));
  const helperHop = await time(N, (i) => helper.request("move", { x: 100 + (i % 500), y: 200 }));
  const p50 = pct(full, 0.5);
  const shares = { http: pct(http, 0.5), ws: pct(ws, 0.5), helper: pct(helperHop, 0.5) };
  const rest = Math.max(0, p50 - shares.http - shares.ws - shares.helper);
  console.log(`\n## Action round trip (move), ${N} sequential, one run`);
  console.log(
    `operator REST → server → client → helper → X → RESULT: p50 ${p50.toFixed(2)} ms, p99 ${
      pct(full, 0.99).toFixed(2)
    } ms`,
  );
  console.log("| hop (measured alone, p50) | ms | share of p50 |\n| --- | --- | --- |");
  const row = (name: string, ms: number) =>
    console.log(`| ${name} | ${ms.toFixed(3)} | ${((ms / p50) * 100).toFixed(0)}% |`);
  row("HTTP request/response (GET /healthz)", shares.http);
  row("WebSocket server⇄client (PING/PONG)", shares.ws);
  row("client⇄helper stdio + robotjs + X (helper move)", shares.helper);
  row("rest: dispatch, codec, client runtime, JSON", rest);
} finally {
  await helper.close();
  await client.stop();
  await server.close();
  await x.stop();
}
