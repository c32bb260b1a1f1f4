/**
 * Scheduling overhead: 10,000-node DAGs (chain, wide, diamond) over 100 simulated devices that succeed at
 * once, persistence on (the real server and SQLite store). Reports server CPU µs per node, submit-to-done
 * wall time, and the latency from a dependency's RESULT to the dependent's EXECUTE_TASK on the wire.
 */
import { startTestServer } from "../tests/helpers/server.ts";

const NODES = Number(Deno.env.get("BENCH_NODES") ?? 10_000);
const DEVICES = 100;

/** CPU time of this process (the server), user and kernel, in ms. */
function cpuMs(): { user: number; kernel: number } {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return { user: Number(fields[11]) * 10, kernel: Number(fields[12]) * 10 };
}

function shape(kind: string): unknown[] {
  const node = (id: string, after: string[] = []) => ({
    id,
    kind: "script",
    target: { tags: ["sim"] },
    steps: [],
    after,
  });
  if (kind === "chain") return Array.from({ length: NODES }, (_, i) => node(`n${i}`, i ? [`n${i - 1}`] : []));
  if (kind === "wide") return Array.from({ length: NODES }, (_, i) => node(`n${i}`));
  return [
    node("top"),
    ...Array.from({ length: NODES - 2 }, (_, i) => node(`m${i}`, ["top"])),
    node("bottom", Array.from({ length: Math.min(1000, NODES - 2) }, (_, i) => `m${i}`)),
  ];
}

const server = await startTestServer([
  "--max-messages-per-second",
  "1000000",
  "--max-json-bytes",
  "16777216",
]);
const sim = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("./sim_devices.ts", import.meta.url).pathname,
    server.wsUrl,
    server.deviceKey,
    String(DEVICES),
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = sim.stdout.pipeThrough(new TextDecoderStream()).getReader();
const writer = sim.stdin.getWriter();
let buffered = "";
async function nextLine(): Promise<string> {
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("simulator exited");
    buffered += value;
  }
  const index = buffered.indexOf("\n");
  const line = buffered.slice(0, index);
  buffered = buffered.slice(index + 1);
  return line;
}
await nextLine();

console.log(`\n## Scheduler: ${NODES}-node DAGs over ${DEVICES} simulated devices, persistence on, one run`);
console.log(
  "| shape | submit→done s | server CPU µs/node | of which kernel | nodes/s | RESULT→EXECUTE_TASK p50 ms | p99 ms | " +
    "WebSocket messages/node in, out | frames/node in, out |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const kind of ["chain", "wide", "diamond"]) {
  await writer.write(new TextEncoder().encode("reset\n"));
  await nextLine();
  const cpuBefore = cpuMs();
  const started = performance.now();
  const response = await server.api("/api/dags", {
    method: "POST",
    body: JSON.stringify({ name: kind, nodes: shape(kind) }),
  });
  if (response.status !== 201) throw new Error(`submit failed: ${await response.text()}`);
  const { id } = await response.json();
  while (server.orion.view(id)?.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const wallMs = performance.now() - started;
  const cpuAfter = cpuMs();
  const cpu = cpuAfter.user + cpuAfter.kernel - cpuBefore.user - cpuBefore.kernel;
  const kernel = cpuAfter.kernel - cpuBefore.kernel;
  await writer.write(new TextEncoder().encode("report\n"));
  const report = JSON.parse(await nextLine()) as {
    latencies: number[];
    wire: { messagesIn: number; framesIn: number; messagesOut: number; framesOut: number };
  };
  const latencies = report.latencies.sort((a, b) => a - b);
  const perNode = (n: number) => (n / NODES).toFixed(2);
  const { wire } = report;
  const pick = (p: number) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2)
      : "-";
  const status = server.orion.view(id)?.state;
  console.log(
    `| ${kind}${status === "succeeded" ? "" : ` (${status})`} | ${(wallMs / 1000).toFixed(2)} | ${
      (cpu * 1000 / NODES).toFixed(0)
    } | ${(kernel * 1000 / NODES).toFixed(0)} | ${(NODES / (wallMs / 1000)).toFixed(0)} | ${
      kind === "chain" ? pick(0.5) : "-"
    } | ${kind === "chain" ? pick(0.99) : "-"} | ${perNode(wire.messagesIn)}, ${
      perNode(wire.messagesOut)
    } | ${perNode(wire.framesIn)}, ${perNode(wire.framesOut)} |`,
  );
}
console.log(
  "(RESULT→EXECUTE_TASK is measured on the chain, where each EXECUTE_TASK follows exactly one RESULT. " +
    "Wire counts at the devices: in = server→device, out = device→server; a WebSocket message carries " +
    "one or more frames.)",
);
await writer.close();
await sim.status;
await server.close();
