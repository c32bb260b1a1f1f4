/**
 * The operator CLI's costs:
 * - `a3 devices` against a real server, as a process: `deno task a3` and the task's `deno run` command,
 *   next to the same request with fetch in this process (what the CLI adds is process start-up);
 * - `a3 dag run --watch` of a DAG that ends at once (one server node sleeping 0 ms): wall time of the
 *   process, and how much of it the DAG itself took on the server;
 * - the watch's progress model: one event applied, and the block rebuilt (from every node; a terminal gets
 *   at most one per 50 ms), for DAGs of 10, 1,000 and 10,000 nodes.
 * Settings: BENCH_CLI_RUNS (default 10).
 */
import { DagProgress } from "../cli/progress.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { ascending, percentile } from "./stats.ts";

const RUNS = Number(Deno.env.get("BENCH_CLI_RUNS") ?? 10);
const root = new URL("..", import.meta.url).pathname;

const median = (values: number[]) => percentile(ascending(values), 0.5);

async function timeProcess(program: string, args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(program, { args, cwd: root, env, stdout: "null", stderr: "piped" })
    .output();
  const ms = performance.now() - started;
  if (output.code !== 0) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return ms;
}

const server = await startTestServer();
const work = await Deno.makeTempDir({ prefix: "alien3-cli-bench-" });
try {
  const env = {
    ALIEN3_SERVER: server.url,
    ALIEN3_TOKEN: server.operatorToken,
    ALIEN3_CONFIG: "",
    XDG_CONFIG_HOME: `${work}/config`,
  };
  const task = (JSON.parse(await Deno.readTextFile(`${root}deno.json`)) as { tasks: Record<string, string> })
    .tasks.a3.split(/\s+/).slice(1);

  const viaTask: number[] = [];
  const viaRun: number[] = [];
  const inProcess: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    viaTask.push(await timeProcess("deno", ["task", "-q", "a3", "devices"], env));
    viaRun.push(await timeProcess(Deno.execPath(), [...task, "devices"], env));
    const started = performance.now();
    await (await server.api("/api/devices")).json();
    inProcess.push(performance.now() - started);
  }
  console.log(`a3 devices (median of ${RUNS}):`);
  console.log(`  deno task a3 devices      ${median(viaTask).toFixed(1)} ms`);
  console.log(`  deno run … cli/a3.ts      ${median(viaRun).toFixed(1)} ms`);
  console.log(`  fetch in this process     ${median(inProcess).toFixed(2)} ms`);

  const dagFile = `${work}/quick.json`;
  await Deno.writeTextFile(
    dagFile,
    JSON.stringify({ name: "quick", nodes: [{ id: "only", kind: "server", op: { sleepMs: 0 } }] }),
  );
  const watch: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    watch.push(await timeProcess(Deno.execPath(), [...task, "dag", "run", dagFile, "--watch"], env));
  }
  const { dags } = await (await server.api("/api/dags")).json() as {
    dags: Array<{ createdAt: number; endedAt: number }>;
  };
  const onServer = dags.map((d) => d.endedAt - d.createdAt);
  console.log(`a3 dag run --watch, one server node of 0 ms (median of ${RUNS}):`);
  console.log(`  process wall time         ${median(watch).toFixed(1)} ms`);
  console.log(`  the DAG on the server     ${median(onServer).toFixed(1)} ms`);

  console.log(
    "watch progress model: an event applied; the block rebuilt (at most once per 50 ms on a terminal):",
  );
  for (const nodes of [10, 1_000, 10_000]) {
    const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
    const progress = new DagProgress("d", "bench", 0, ids);
    const name = (id: string) => id;
    const events = ids.flatMap((id, i) =>
      (["assigned", "running", "succeeded"] as const).map((to, step) => ({
        event: "transition",
        data: {
          dagId: "d",
          kind: "node",
          nodeId: id,
          from: ["pending", "assigned", "running"][step],
          to,
          atMs: i,
          attempt: 1,
          deviceId: `dev${i % 8}`,
        },
      }))
    ).slice(0, 3000);
    let started = performance.now();
    for (const event of events) progress.apply(event, name);
    const applyUs = ((performance.now() - started) / events.length) * 1000;
    const blocks = 200;
    started = performance.now();
    for (let i = 0; i < blocks; i++) progress.block(1000, name, 120);
    const blockUs = ((performance.now() - started) / blocks) * 1000;
    console.log(
      `  ${String(nodes).padStart(6)} nodes: ${applyUs.toFixed(1)} µs per event, ${
        blockUs.toFixed(1)
      } µs per block`,
    );
  }
} finally {
  await server.close();
  await Deno.remove(work, { recursive: true });
}
