/**
 * The external check of the scheduler's cost: a real server process with four of the project's own headless
 * clients (`client/main.ts`, default settings: 4 tasks each) runs a 2,000-node wide DAG and a 1,000-node
 * chain, each node one `wait` step of 0 ms, on the server's default settings. Reported: the server
 * process's user+sys CPU (`/proc/PID/stat` utime+stime) from just before the submit to the DAG's end, per
 * node; the idle rate of the same server with the clients connected (measured first, from the threads'
 * schedstat, for resolution) times the run's wall time, per node, as `of which background`; wall time and
 * nodes/s.
 *
 * The bench learns of the DAG's end by reading `GET /api/dags` (the summaries) once every
 * `BENCH_CPU_POLL_MS` (default 1000 ms): those reads are server CPU too and are included. Goal: ≤ 100 µs
 * of server CPU per node. `BENCH_CPU_WIDE` (default 2000) and `BENCH_CPU_CHAIN` (1000) set the sizes.
 *
 * Run twice: on the default per-device message rate (1,000/s), which paces a chain's device (four frames a
 * node: TASK_ACCEPTED, RESULT and two SEQ_ACKs), and again with `--max-messages-per-second 100000`, so the
 * server's own cost per node shows without the pacing.
 */
import { startClient } from "../tests/helpers/client_process.ts";
import { startServerProcess } from "../tests/helpers/server_process.ts";
import { cpuMs, cpuUs } from "./process_cpu.ts";

const WIDE = Number(Deno.env.get("BENCH_CPU_WIDE") ?? 2000);
const CHAIN = Number(Deno.env.get("BENCH_CPU_CHAIN") ?? 1000);
const POLL_MS = Number(Deno.env.get("BENCH_CPU_POLL_MS") ?? 1000);
const CLIENTS = 4;

const node = (id: string, after: string[]) => ({
  id,
  kind: "script",
  target: { tags: ["cpu"] },
  steps: [{ type: "wait", ms: 0 }],
  after,
});

/** A server with `flags` and four clients: the background rate, then the wide and the chain DAG. */
async function measure(label: string, flags: string[]): Promise<void> {
  const server = await startServerProcess(flags);
  const pid = server.child.pid;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${server.operatorToken}`, "content-type": "application/json" },
    });
  const clients = await Promise.all(
    Array.from(
      { length: CLIENTS },
      (_, i) =>
        startClient(`ws://127.0.0.1:${server.port}`, server.deviceKey, `cpu-${i}`, {
          extraArgs: ["--tags", "cpu"],
        }),
    ),
  );
  let background = 0;

  async function run(name: string, nodes: unknown[]): Promise<string> {
    const count = nodes.length;
    const cpuBefore = cpuMs(pid);
    const started = performance.now();
    const response = await api("/api/dags", { method: "POST", body: JSON.stringify({ name, nodes }) });
    if (response.status !== 201) throw new Error(`submit failed: ${await response.text()}`);
    const { id } = await response.json();
    let state = "running";
    while (state === "running") {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const { dags } = await (await api("/api/dags")).json() as {
        dags: Array<{ id: string; state: string }>;
      };
      state = dags.find((dag) => dag.id === id)?.state ?? "unknown";
    }
    const wallMs = performance.now() - started;
    const cpu = cpuMs(pid) - cpuBefore;
    return `| ${label} | ${name}${state === "succeeded" ? "" : ` (${state})`} | ${count} | ${
      (wallMs / 1000).toFixed(1)
    } | ${(cpu * 1000 / count).toFixed(0)} | ${(background * wallMs * 1000 / count).toFixed(0)} | ${
      (count / (wallMs / 1000)).toFixed(0)
    } |`;
  }

  try {
    let ready = 0;
    for (const deadline = Date.now() + 30_000; ready < CLIENTS && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { devices } = await (await api("/api/devices")).json() as { devices: Array<{ state: string }> };
      ready = devices.filter((d) => d.state === "ready").length;
    }
    if (ready < CLIENTS) throw new Error(`only ${ready} of ${CLIENTS} clients joined`);
    const idleCpu = cpuUs(pid);
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    background = (cpuUs(pid) - idleCpu) / 1000 / (performance.now() - idleStarted); // CPU ms per wall ms
    backgrounds.push(`${label}: ${(background * 1e6).toFixed(0)} µs CPU/s`);
    rows.push(await run("wide", Array.from({ length: WIDE }, (_, i) => node(`n${i}`, []))));
    rows.push(
      await run(
        "chain",
        Array.from({ length: CHAIN }, (_, i) => node(`n${i}`, i === 0 ? [] : [`n${i - 1}`])),
      ),
    );
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    await server.stop();
  }
}

const rows: string[] = [];
const backgrounds: string[] = [];
await measure("default (1,000 msg/s per device)", []);
await measure("100,000 msg/s per device", ["--max-messages-per-second", "100000"]);
console.log(
  `\n## Server CPU per node: real server, ${CLIENTS} headless clients (4 tasks each), one \`wait\` step per node, one run`,
);
console.log(
  `Background with the clients connected and no DAG: ${backgrounds.join("; ")}. Goal: ≤ 100 µs/node.`,
);
console.log(
  "| message rate | DAG | nodes | submit→done s | server CPU µs/node | of which background | nodes/s |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(row);
