/**
 * Restart-to-healthy: process start → first `GET /healthz` 200, after a history of DAG work and device
 * reconnects, for a clean stop (SIGTERM) and a crash (SIGKILL). The history is made through the real
 * server process (REST submissions, raw protocol devices), so the same bench measures any checkout:
 * `BENCH_SERVER_ROOT=/path/to/other/checkout` runs that tree's `server/main.ts` (e.g. a copy of main for
 * the "before" figure).
 *
 * DAG events are scheduler inputs from DAG work: each DAG is 100 server nodes that sleep 1 ms, so it
 * brings 101 inputs (its submission and one timer per node) and about 200 transitions.
 * Settings: BENCH_RESTART_DAG_EVENTS (default 100,000), BENCH_RESTART_RECONNECTS (10,000),
 * BENCH_RESTART_APPS (apps per device, 200, ≈ 20 KB of capabilities), BENCH_RESTART_RUNS (3).
 */
import { PROTOCOL_VERSION } from "../shared/protocol/mod.ts";
import { serverArgs } from "../tests/helpers/server_process.ts";
import { RawDevice, testCapabilities } from "../tests/helpers/raw_device.ts";
import { freePort } from "../tests/helpers/ports.ts";
import { LineReader } from "./line_process.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const DAG_EVENTS = env("BENCH_RESTART_DAG_EVENTS", 100_000);
const RECONNECTS = env("BENCH_RESTART_RECONNECTS", 10_000);
const APPS = env("BENCH_RESTART_APPS", 200);
const RUNS = env("BENCH_RESTART_RUNS", 3);
const NODES_PER_DAG = 100;
const DEVICES = 10;
const root = Deno.env.get("BENCH_SERVER_ROOT") ?? new URL("..", import.meta.url).pathname;
const serverMain = `${root.replace(/\/$/, "")}/server/main.ts`;

interface Running {
  child: Deno.ChildProcess;
  url: string;
  startedMs: number;
  healthyMs: number;
}

function spawn(dataDir: string, port: number, stdout: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: serverArgs(port, dataDir, [
      "--log",
      "silent",
      "--resume-grace-ms",
      "0",
      "--max-messages-per-second",
      "1000000",
    ], serverMain),
    stdout,
    stderr: "inherit",
  }).spawn();
}

async function start(dataDir: string, port: number): Promise<Running> {
  const startedMs = performance.now();
  const child = spawn(dataDir, port, "null");
  const url = `http://127.0.0.1:${port}`;
  while (true) {
    const ok = await fetch(`${url}/healthz`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }, () => false);
    if (ok) return { child, url, startedMs, healthyMs: performance.now() - startedMs };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function stop(running: Running, signal: Deno.Signal): Promise<void> {
  running.child.kill(signal);
  await running.child.status;
}

async function firstStart(dataDir: string): Promise<{ operator: string; device: string }> {
  const child = spawn(dataDir, 0, "piped");
  const lines = new LineReader(child.stdout);
  const output = await lines.until("listening on");
  child.kill("SIGTERM");
  await lines.cancel();
  await child.status;
  const operator = /operator token:\s+(a3o_\S+)/.exec(output)?.[1];
  const device = /device key:\s+(a3d_\S+)/.exec(output)?.[1];
  if (!operator || !device) throw new Error(`no first-start keys:\n${output}`);
  return { operator, device };
}

async function storeBytes(dataDir: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    total += await Deno.stat(`${dataDir}/alien3.db${suffix}`).then((s) => s.size, () => 0);
  }
  return total;
}

async function makeHistory(running: Running, keys: { operator: string; device: string }): Promise<void> {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${running.url}${path}`, { ...init, headers: { authorization: `Bearer ${keys.operator}` } });
  const dags = Math.ceil(DAG_EVENTS / (NODES_PER_DAG + 1));
  const nodes = Array.from(
    { length: NODES_PER_DAG },
    (_, i) => ({ id: `n${i}`, kind: "server", op: { sleepMs: 1 } }),
  );
  const WAVE = 20;
  for (let first = 0; first < dags; first += WAVE) {
    const ids: string[] = [];
    for (let i = first; i < Math.min(dags, first + WAVE); i++) {
      const response = await api("/api/dags", {
        method: "POST",
        body: JSON.stringify({ name: `d${i}`, nodes }),
      });
      if (response.status !== 201) throw new Error(`submit failed: ${await response.text()}`);
      ids.push((await response.json()).id);
    }
    for (const id of ids) {
      while ((await (await api(`/api/dags/${id}`)).json()).state === "running") {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }
  const wsUrl = `${running.url.replace("http", "ws")}/v1/device`;
  const apps = Array.from(
    { length: APPS },
    (_, i) => `App ${i}: /usr/share/applications/org.example.application-${i}.desktop`,
  );
  // One loop per device name, in parallel: each reconnect is a full handshake with the same app list.
  await Promise.all(Array.from({ length: DEVICES }, async (_, d) => {
    for (let i = d; i < RECONNECTS; i += DEVICES) {
      const device = await RawDevice.open(wsUrl);
      device.send("CONNECT", {
        protocolVersion: PROTOCOL_VERSION,
        token: keys.device,
        clientVersion: "bench/1",
      });
      await device.next("ACK", 10_000);
      device.send("REGISTER_CAPABILITIES", { ...testCapabilities(`device-${d}`), apps });
      await device.next("READY", 10_000);
      await device.close();
    }
  }));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const dataDir = await Deno.makeTempDir({ prefix: "alien3-restart-bench-" });
try {
  const keys = await firstStart(dataDir);
  const port = freePort();
  let running = await start(dataDir, port);
  const madeAt = performance.now();
  await makeHistory(running, keys);
  const historyS = (performance.now() - madeAt) / 1000;
  const results: Record<string, number[]> = { SIGTERM: [], SIGKILL: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      await stop(running, signal);
      running = await start(dataDir, port);
      results[signal].push(running.healthyMs);
    }
  }
  await stop(running, "SIGTERM");
  const bytes = await storeBytes(dataDir);
  const dagEvents = Math.ceil(DAG_EVENTS / (NODES_PER_DAG + 1)) * (NODES_PER_DAG + 1);
  console.log(
    `\n## Restart to healthy after ${dagEvents} DAG events and ${RECONNECTS} reconnects (${APPS} apps each), server at ${root}`,
  );
  console.log(
    `(history made in ${historyS.toFixed(0)} s; store ${(bytes / 1024 / 1024).toFixed(1)} MiB after)`,
  );
  console.log("| stop before the restart | restart→healthy median ms | runs (ms) |");
  console.log("| --- | ---: | --- |");
  for (const [signal, values] of Object.entries(results)) {
    console.log(
      `| ${signal} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(", ")} |`,
    );
  }
} finally {
  await Deno.remove(dataDir, { recursive: true });
}
