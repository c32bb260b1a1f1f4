/**
 * Gateway PING/PONG round trips against a bare WebSocket server, one run. Both servers face the same
 * device (`bench/ping_device.ts`: decodes each frame with the codec, answers a PING with a PONG), so the
 * difference is what the gateway does on the server:
 *
 * - bare: `Deno.serve` + `Deno.upgradeWebSocket`; sends a PING frame encoded once up front, and a round
 *   trip ends at the next message, which it does not decode.
 * - gateway: `DeviceGateway` behind the same `Deno.serve` (tests/helpers/gateway_harness.ts);
 *   `gateway.ping()` encodes a PING, and the round trip ends when the PONG is decoded, admitted (rate
 *   limit), matched to its probe in the session and timed.
 *
 * Each pair runs with the device in this process (one event loop does both sides, as the first version of
 * this bench did) and with the device in a process of its own (as in production). On a shared machine the
 * second swings from run to run, so each server is measured ROUNDS times, alternating, and the median
 * round (by round trips/s) is shown. Goal (issue 14): gateway ≥ 0.9× bare round trips/s, p99 ≤ 1.5× bare.
 */
import { encodeMessage } from "../shared/protocol/mod.ts";
import { startGatewayServer } from "../tests/helpers/gateway_harness.ts";
import { openPingDevice, type PingDevice } from "./ping_device.ts";
import { LineReader } from "./line_process.ts";
import { ascending, percentile } from "./stats.ts";

const ROUND_TRIPS = Number(Deno.env.get("BENCH_PING_ROUND_TRIPS") ?? 5000);
const ROUNDS = Number(Deno.env.get("BENCH_PING_ROUNDS") ?? 3);
const WARMUP = 500;

interface Summary {
  perSecond: number;
  p50: number;
  p99: number;
}

function summarise(samples: number[], totalMs: number): Summary {
  const sorted = ascending(samples);
  return {
    perSecond: (samples.length / totalMs) * 1000,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

async function measure(roundTrip: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < WARMUP; i++) await roundTrip();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const at = performance.now();
    await roundTrip();
    samples.push(performance.now() - at);
  }
  return summarise(samples, performance.now() - started);
}

/** The device: here (`inProcess`) or in its own process; resolves once it is connected. */
async function device(url: string, key: string | undefined, inProcess: boolean): Promise<PingDevice> {
  if (inProcess) return await openPingDevice(url, key);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./ping_device.ts", import.meta.url).pathname, url, ...(key ? [key] : [])],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = new LineReader(child.stdout);
  await output.until("ready");
  return {
    async close() {
      await child.stdin.close();
      await output.cancel();
      await child.status;
    },
  };
}

async function bare(inProcess: boolean): Promise<Summary> {
  const frame = encodeMessage("PING", { id: 1, sentAtMs: Date.now() }, Date.now());
  const opened = Promise.withResolvers<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    socket.onopen = () => opened.resolve(socket);
    return response;
  });
  const client = await device(`ws://127.0.0.1:${server.addr.port}/v1/device`, undefined, inProcess);
  const socket = await opened.promise;
  let answered: () => void = () => {};
  socket.onmessage = () => answered();
  try {
    return await measure(() =>
      new Promise<void>((resolve) => {
        answered = resolve;
        socket.send(frame);
      })
    );
  } finally {
    await client.close();
    await server.shutdown();
  }
}

async function gateway(inProcess: boolean): Promise<Summary> {
  const h = startGatewayServer({
    heartbeatIntervalMs: 3_600_000,
    heartbeatTimeoutMs: 7_200_000,
    limits: { maxFrameBytes: 1 << 20, maxJsonBytes: 1 << 16, maxMessagesPerSecond: 1_000_000 },
  });
  const client = await device(h.url, h.deviceKey.secret, inProcess);
  try {
    const deviceId = h.gateway.devices().find((d) => d.state === "ready")!.id;
    return await measure(async () => {
      if (await h.gateway.ping(deviceId, 10_000) === null) throw new Error("no PONG");
    });
  } finally {
    await client.close();
    await h.close();
  }
}

const f = (n: number) => n.toFixed(3);
console.log(
  `\n## Gateway: PING/PONG round trips, ${ROUND_TRIPS} sequential, median of ${ROUNDS} alternating rounds, one run`,
);
console.log("");
console.log("| device | server | round trips/s | p50 ms | p99 ms |");
console.log("| --- | --- | ---: | ---: | ---: |");
const ratios: string[] = [];
/** The round with the median throughput. */
const median = (runs: Summary[]) => [...runs].sort((a, b) => a.perSecond - b.perSecond)[runs.length >> 1];
for (const inProcess of [true, false]) {
  const where = inProcess ? "in the bench's process" : "in its own process";
  const bareRuns: Summary[] = [];
  const gatewayRuns: Summary[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await bare(inProcess));
    gatewayRuns.push(await gateway(inProcess));
  }
  const b = median(bareRuns);
  const g = median(gatewayRuns);
  console.log(
    `| ${where} | bare Deno.upgradeWebSocket | ${b.perSecond.toFixed(0)} | ${f(b.p50)} | ${f(b.p99)} |`,
  );
  console.log(`| ${where} | gateway | ${g.perSecond.toFixed(0)} | ${f(g.p50)} | ${f(g.p99)} |`);
  ratios.push(
    `device ${where}: gateway/bare throughput ${(g.perSecond / b.perSecond).toFixed(2)}×, p50 ${
      (g.p50 / b.p50).toFixed(2)
    }×, p99 ${(g.p99 / b.p99).toFixed(2)}×`,
  );
}
console.log("");
for (const line of ratios) console.log(line);
console.log(
  "(same device both times: it decodes every frame and answers a PING with a PONG. bare: sends a PING " +
    "encoded once, a round trip ends at the next message, undecoded. gateway: gateway.ping() encodes the " +
    "PING; the round trip ends when the PONG is decoded, admitted and matched to its probe.)",
);
