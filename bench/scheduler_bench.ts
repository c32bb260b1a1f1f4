/**
 * Scheduling overhead: DAGs of 1k, 3k and 10k nodes (chain, wide, diamond) over 100 simulated devices that
 * succeed at once, persistence on. The server is a real process (`server/main.ts`, its own SQLite store);
 * the devices are another (`sim_devices.ts`), so the server's CPU is measured alone, from /proc.
 *
 * Columns: `server CPU µs/node` is the server process's user+sys CPU from just before the submit to the
 * DAG's end, divided by its nodes; it includes parsing and validating the submitted DAG, every device
 * message, every commit, and the server's background work over that time (heartbeats, key polling),
 * which `background` shows on its own (the idle rate measured first, times the run's wall time, per
 * node). Nothing polls the server while a DAG runs: the devices say when they sent their last RESULT, then
 * `GET /api/dags` (the summaries, not the DAG) is read until the DAG ended. `RESULT→EXECUTE_TASK` is the
 * time, seen by the devices, from a dependency's RESULT leaving to its dependent's EXECUTE_TASK arriving
 * (chain only, where each EXECUTE_TASK follows exactly one RESULT). `kernel µs/node` is the sys part of the
 * server's CPU; `messages`/`frames per node` are counted at the devices (in = server→device, out =
 * device→server; a WebSocket message carries one or more frames).
 *
 * `BENCH_SCHED_SIZES` (default `1000,3000,10000`) and `BENCH_SCHED_SHAPES` (default `chain,wide,diamond`).
 */
import { startServerProcess } from "../tests/helpers/server_process.ts";
import { cpuUs, kernelMs } from "./process_cpu.ts";
import { LineProcess } from "./line_process.ts";
import { shape } from "./dag_shapes.ts";
import { ascending, percentile } from "./stats.ts";

const SIZES = (Deno.env.get("BENCH_SCHED_SIZES") ?? "1000,3000,10000").split(",").map(Number);
const SHAPES = (Deno.env.get("BENCH_SCHED_SHAPES") ?? "chain,wide,diamond").split(",");
const DEVICES = 100;

const server = await startServerProcess([
  "--max-messages-per-second",
  "1000000",
  "--max-json-bytes",
  "16777216",
]);
const pid = server.child.pid;
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${server.operatorToken}`, "content-type": "application/json" },
  });
const sim = LineProcess.start([
  new URL("./sim_devices.ts", import.meta.url).pathname,
  `ws://127.0.0.1:${server.port}/v1/device`,
  server.deviceKey,
  String(DEVICES),
]);

try {
  await sim.expect("ready");
  const idleStarted = performance.now();
  const idleCpu = cpuUs(pid);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const backgroundUsPerS = (cpuUs(pid) - idleCpu) / ((performance.now() - idleStarted) / 1000);

  console.log(
    `\n## Scheduler: DAGs over ${DEVICES} simulated devices, persistence on, server in its own process, one run`,
  );
  console.log(
    `Server background with the devices connected and no DAG: ${backgroundUsPerS.toFixed(0)} µs CPU/s.`,
  );
  console.log(
    "| shape | nodes | submit→done s | server CPU µs/node | of which background | kernel µs/node | nodes/s | RESULT→EXECUTE_TASK p50 ms | p99 ms | messages/node in, out | frames/node in, out |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const count of SIZES) {
    for (const kind of SHAPES) {
      sim.send("reset");
      await sim.expect("reset");
      sim.send(`expect ${count}`);
      const body = JSON.stringify({ name: `${kind}-${count}`, nodes: shape(kind, count) });
      const cpuBefore = cpuUs(pid);
      const kernelBefore = kernelMs(pid);
      const started = performance.now();
      const response = await api("/api/dags", { method: "POST", body });
      if (response.status !== 201) throw new Error(`submit failed: ${await response.text()}`);
      const { id } = await response.json();
      await sim.expect("done");
      let state = "running";
      while (state === "running") {
        const { dags } = await (await api("/api/dags")).json() as {
          dags: Array<{ id: string; state: string }>;
        };
        state = dags.find((dag) => dag.id === id)?.state ?? "unknown";
        if (state === "running") await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const wallMs = performance.now() - started;
      const cpu = cpuUs(pid) - cpuBefore;
      const kernel = (kernelMs(pid) - kernelBefore) * 1000;
      sim.send("report");
      const report = JSON.parse(await sim.line()) as {
        latencies: number[];
        wire: { messagesIn: number; framesIn: number; messagesOut: number; framesOut: number };
      };
      const latencies = ascending(report.latencies);
      const { wire } = report;
      const perNode = (n: number) => (n / count).toFixed(2);
      const pick = (p: number) =>
        kind === "chain" && latencies.length > 0 ? percentile(latencies, p).toFixed(2) : "-";
      console.log(
        `| ${kind}${state === "succeeded" ? "" : ` (${state})`} | ${count} | ${
          (wallMs / 1000).toFixed(2)
        } | ${(cpu / count).toFixed(0)} | ${(backgroundUsPerS * wallMs / 1000 / count).toFixed(0)} | ${
          (kernel / count).toFixed(0)
        } | ${(count / (wallMs / 1000)).toFixed(0)} | ${pick(0.5)} | ${pick(0.99)} | ${
          perNode(wire.messagesIn)
        }, ${perNode(wire.messagesOut)} | ${perNode(wire.framesIn)}, ${perNode(wire.framesOut)} |`,
      );
    }
  }
} finally {
  await sim.close();
  await server.stop();
}
