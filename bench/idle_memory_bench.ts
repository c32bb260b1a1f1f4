/**
 * Idle devices: resident memory per socket of the real server (`server/main.ts`, fresh data dir, every
 * device through the full handshake and answering PINGs) against a bare `Deno.serve` +
 * `Deno.upgradeWebSocket` server (`bench/bare_ws_server.ts`) holding the same number of plain sockets, in
 * the same run. Each server and the clients (`bench/swarm.ts`) run in processes of their own; a server's
 * RSS is read from /proc before the sockets open and once they have been idle for a while, and the
 * difference is divided by the sockets. Goal (issue 14): server ≤ 1.1× bare.
 * Settings: BENCH_IDLE_DEVICES (default 10,000), BENCH_IDLE_SETTLE_MS (idle time before reading, 3000).
 */
import { serverArgs } from "../tests/helpers/server_process.ts";
import { freePort } from "../tests/helpers/ports.ts";
import { LineReader } from "./line_process.ts";

const DEVICES = Number(Deno.env.get("BENCH_IDLE_DEVICES") ?? 10_000);
const SETTLE_MS = Number(Deno.env.get("BENCH_IDLE_SETTLE_MS") ?? 3000);
const here = (name: string) => new URL(`./${name}`, import.meta.url).pathname;
/** File descriptors each process may need: a socket per device, and some to spare. */
const FDS = DEVICES + 1024;

/** `deno args…` under `sh`, with the open-file limit raised to FDS (up to the hard limit) first. */
function withFds(args: string[], stdin: "piped" | "null" = "null"): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", `ulimit -n ${FDS} 2>/dev/null || ulimit -n hard; exec "$0" "$@"`, Deno.execPath(), ...args],
    stdin,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Resident set of a process, in bytes. */
function rssBytes(pid: number): number {
  return statusKiB(pid, "VmRSS") * 1024;
}

/** A `kB` field of /proc/PID/status. */
function statusKiB(pid: number, field: string): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Measured {
  beforeBytes: number;
  afterBytes: number;
  perSocketKiB: number;
  openSeconds: number;
}

/** Opens DEVICES sockets from a swarm process against `url`, waits SETTLE_MS, and reads `pid`'s RSS. */
async function measure(pid: number, url: string, key: string, mode: "device" | "bare"): Promise<Measured> {
  await sleep(1000);
  const beforeBytes = rssBytes(pid);
  const started = performance.now();
  const swarm = withFds(["run", "-A", here("swarm.ts"), url, key, String(DEVICES), mode], "piped");
  const said = await new LineReader(swarm.stdout).line();
  if (said !== `ready ${DEVICES}`) throw new Error(`swarm said ${said}`);
  const openSeconds = (performance.now() - started) / 1000;
  await sleep(SETTLE_MS);
  const afterBytes = rssBytes(pid);
  await swarm.stdin.close();
  await swarm.status;
  return {
    beforeBytes,
    afterBytes,
    perSocketKiB: (afterBytes - beforeBytes) / DEVICES / 1024,
    openSeconds,
  };
}

async function bare(): Promise<Measured> {
  const child = withFds(["run", "-A", here("bare_ws_server.ts")]);
  try {
    const port = Number((await new LineReader(child.stdout).line()).split(" ")[1]);
    return await measure(child.pid, `ws://127.0.0.1:${port}/v1/device`, "-", "bare");
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

async function gatewayOnly(): Promise<Measured> {
  const child = withFds(["run", "-A", here("gateway_server.ts")]);
  try {
    const [, port, key] = (await new LineReader(child.stdout).line()).split(" ");
    return await measure(child.pid, `ws://127.0.0.1:${port}/v1/device`, key, "device");
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

async function server(): Promise<Measured> {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-idle-bench-" });
  const port = freePort();
  const child = withFds(
    serverArgs(port, dataDir, ["--log", "silent", "--max-messages-per-second", "1000000"]),
  );
  try {
    const lines = new LineReader(child.stdout);
    const output = await lines.until("listening on");
    const key = /device key:\s+(a3d_\S+)/.exec(output)?.[1];
    if (!key) throw new Error(`no device key in the first start's output:\n${output}`);
    // The server keeps logging; read it so its pipe never fills.
    void (async () => {
      while (true) await lines.line();
    })().catch(() => {});
    return await measure(child.pid, `ws://127.0.0.1:${port}/v1/device`, key, "device");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const bareRun = await bare();
const gatewayRun = await gatewayOnly();
const serverRun = await server();
console.log(`\n## Idle devices: ${DEVICES.toLocaleString("en-US")} sockets, server RSS per socket, one run`);
console.log("");
console.log(
  "| server process | RSS before MiB | RSS with the sockets MiB | per socket KiB | sockets opened in s |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (
  const [label, run] of [
    ["bare Deno.serve + upgradeWebSocket, plain sockets", bareRun],
    ["the gateway alone (bench/gateway_server.ts), ready devices answering PINGs", gatewayRun],
    ["server/main.ts, ready devices answering PINGs", serverRun],
  ] as const
) {
  console.log(
    `| ${label} | ${mib(run.beforeBytes)} | ${mib(run.afterBytes)} | ${run.perSocketKiB.toFixed(1)} | ${
      run.openSeconds.toFixed(1)
    } |`,
  );
}
console.log("");
const ratio = (run: Measured) => (run.perSocketKiB / bareRun.perSocketKiB).toFixed(2);
console.log(
  `ratio per socket: gateway/bare ${ratio(gatewayRun)}×, server/bare ${ratio(serverRun)}× ` +
    `(RSS read after ${SETTLE_MS} ms idle; clients in their own process)`,
);
