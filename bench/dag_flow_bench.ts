/**
 * DAG throughput through the whole control path: 200 independent script nodes of one `move` step each, on
 * one real client driving a real X server (Xvnc), submitted over REST; nodes/s from submission to the
 * DAG's end. Run on the default rate limit and on a few explicit ones (`--max-messages-per-second`), one
 * fresh server and client each, so the default can be judged against the limit it imposes. A run that
 * stalls is cut off after `BENCH_DAG_TIMEOUT_MS` and reported with the nodes that finished.
 */
import { startClient } from "../tests/helpers/client_process.ts";
import { independentNodes } from "../tests/helpers/dags.ts";
import { until } from "../tests/helpers/gateway_harness.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";

const NODES = Number(Deno.env.get("BENCH_DAG_NODES") ?? 200);
const TIMEOUT_MS = Number(Deno.env.get("BENCH_DAG_TIMEOUT_MS") ?? 60_000);
const RUNS = Number(Deno.env.get("BENCH_DAG_RUNS") ?? 3);
/** `null` is the server's default. */
const LIMITS: Array<number | null> = JSON.parse(
  Deno.env.get("BENCH_DAG_LIMITS") ?? "[null, 200, 1000, 1000000]",
);

interface Run {
  succeeded: number;
  /** `node: state (error)` for each node that did not succeed. */
  others: string[];
  seconds: number;
  deviceMessages: number;
}

async function runOnce(limit: number | null, display: string): Promise<Run> {
  const server = await startTestServer(limit === null ? [] : ["--max-messages-per-second", String(limit)]);
  const client = await startClient(server.wsUrl, server.deviceKey, "bench-flow", {
    env: { DISPLAY: display },
  });
  let deviceMessages = 0;
  const unsubscribe = server.gateway.router.tap(() => void deviceMessages++);
  try {
    await until(
      () => server.gateway.devices().some((d) => d.state === "ready" && d.capabilities.input.mouse),
      "the X client",
      20_000,
    );
    const dag = independentNodes(NODES, { input: true }, [{ type: "move", x: 300, y: 200 }]);
    const started = performance.now();
    const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) });
    if (response.status !== 201) throw new Error(`submit failed: ${await response.text()}`);
    const { id } = await response.json();
    const state = () => server.orion.state.dags[id];
    while (state().status === "running" && performance.now() - started < TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const nodes = Object.values(state().nodes);
    const succeeded = nodes.filter((n) => n.status === "succeeded").length;
    const others = nodes.filter((n) => n.status !== "succeeded").map((n) =>
      `${n.id}: ${n.status}${n.error ? ` (${n.error.code}: ${n.error.message})` : ""}`
    );
    return { succeeded, others, seconds, deviceMessages };
  } finally {
    unsubscribe();
    await client.stop();
    await server.close();
  }
}

const x = await startXServer();
try {
  console.log(
    `\n## DAG throughput: ${NODES} independent one-move nodes, one real client on Xvnc, median of ${RUNS}`,
  );
  console.log(
    "| --max-messages-per-second | finished | submit→end s | nodes/s | delivered device messages/s |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const limit of LIMITS) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await runOnce(limit, x.display));
    runs.sort((a, b) => a.seconds - b.seconds);
    const median = runs[Math.floor(RUNS / 2)];
    const label = limit === null ? "default" : String(limit);
    const stalled = median.seconds * 1000 >= TIMEOUT_MS ? ", stalled" : "";
    const finished = `${median.succeeded}/${NODES} succeeded${stalled}`;
    for (const run of runs) for (const other of run.others.slice(0, 3)) console.error(`(${label}) ${other}`);
    console.log(
      `| ${label} | ${finished} | ${median.seconds.toFixed(2)} | ${
        (median.succeeded / median.seconds).toFixed(0)
      } | ${(median.deviceMessages / median.seconds).toFixed(0)} |`,
    );
  }
  console.log(
    "(device messages: reliable and control messages the gateway delivered, SEQ_ACK and PONG not counted)",
  );
} finally {
  await x.stop();
}
