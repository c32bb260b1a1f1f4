/**
 * Gateway benchmarks, one run each, same machine:
 * 1. PING/PONG round trips through the full gateway vs a bare Deno.upgradeWebSocket echo server.
 * 2. Memory per idle connection with 1,000 devices connected.
 */
import { encodeMessage } from "../shared/protocol/mod.ts";
import { startGatewayServer as startGateway } from "../tests/helpers/gateway_harness.ts";
import { RawDevice } from "../tests/helpers/raw_device.ts";

const ROUND_TRIPS = 5000;
const WARMUP = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarise(samples: number[], totalMs: number) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    perSecond: (samples.length / totalMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

async function gatewayRoundTrips() {
  const h = startGateway({
    heartbeatIntervalMs: 3_600_000,
    heartbeatTimeoutMs: 60_000,
    limits: { maxFrameBytes: 1 << 20, maxJsonBytes: 1 << 16, maxMessagesPerSecond: 1_000_000 },
  });
  const device = await RawDevice.open(h.url);
  try {
    const deviceId = (await device.handshake(h.deviceKey.secret, "bench")).ready.payload.deviceId;
    device.received.length = 0;
    const pings = device.received;
    for (let i = 0; i < WARMUP; i++) await h.gateway.ping(deviceId);
    const samples: number[] = [];
    const started = performance.now();
    for (let i = 0; i < ROUND_TRIPS; i++) samples.push((await h.gateway.ping(deviceId))!);
    const total = performance.now() - started;
    pings.length = 0;
    return summarise(samples, total);
  } finally {
    await device.close();
    await h.close();
  }
}

async function bareRoundTrips() {
  const frame = encodeMessage("PING", { id: 1, sentAtMs: Date.now() }, Date.now());
  let serverSocket: WebSocket | null = null;
  const opened = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => opened.resolve();
    serverSocket = socket;
    return response;
  });
  const client = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  client.binaryType = "arraybuffer";
  client.onmessage = (event) => client.send(event.data);
  await opened.promise;
  const socket = serverSocket!;
  const once = () =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      socket.onmessage = () => resolve(performance.now() - start);
      socket.send(frame);
    });
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) samples.push(await once());
  const total = performance.now() - started;
  client.close();
  await server.shutdown();
  return summarise(samples, total);
}

async function memoryPerConnection(count: number) {
  const h = startGateway({ heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000 });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = Deno.memoryUsage();
  const swarm = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./swarm.ts", import.meta.url).pathname,
      h.url,
      h.deviceKey.secret,
      String(count),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = swarm.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`swarm exited early: ${output}`);
    output += value;
  }
  while (h.gateway.devices().filter((d) => d.state === "ready").length < count) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  const after = Deno.memoryUsage();
  await swarm.stdin.close();
  await swarm.status;
  reader.releaseLock();
  await h.close();
  return {
    rssPerConnectionKiB: (after.rss - before.rss) / count / 1024,
    heapPerConnectionKiB: (after.heapUsed - before.heapUsed) / count / 1024,
    gcExposed: gc !== undefined,
  };
}

const bare = await bareRoundTrips();
const gateway = await gatewayRoundTrips();
const f = (n: number) => n.toFixed(3);
console.log(`\n## Gateway: PING/PONG round trips, ${ROUND_TRIPS} sequential, one run`);
console.log(`| path | round trips/s | p50 ms | p99 ms |`);
console.log(`| --- | --- | --- | --- |`);
console.log(
  `| bare Deno.upgradeWebSocket echo | ${bare.perSecond.toFixed(0)} | ${f(bare.p50)} | ${f(bare.p99)} |`,
);
console.log(
  `| full gateway (codec, session, PONG) | ${gateway.perSecond.toFixed(0)} | ${f(gateway.p50)} | ${
    f(gateway.p99)
  } |`,
);
console.log(
  `ratio gateway/bare: throughput ${(gateway.perSecond / bare.perSecond).toFixed(2)}x, p50 latency ${
    (gateway.p50 / bare.p50).toFixed(2)
  }x, p99 latency ${(gateway.p99 / bare.p99).toFixed(2)}x`,
);
const memory = await memoryPerConnection(1000);
console.log(`\n## Gateway: 1,000 idle devices in one server process`);
console.log(
  `RSS per connection: ${memory.rssPerConnectionKiB.toFixed(1)} KiB; JS heap per connection: ${
    memory.heapPerConnectionKiB.toFixed(1)
  } KiB${memory.gcExposed ? "" : " (run with --v8-flags=--expose-gc for steadier heap figures)"}`,
);
