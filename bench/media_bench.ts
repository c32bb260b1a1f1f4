/**
 * The media path, one run: REQUEST_FRAME → image at the Brain (`frames.getFrame(id, {fresh: true})`) for a
 * 1280x800 JPEG of about 205 KiB, p50/p99, on the WebRTC data channel (64 KiB and 16 KiB messages) and by
 * STREAM_FRAME on the WebSocket; then sustained frames/s and MB/s on each path, same run. Each device
 * runs in its own process (this file with `--device`), built from the Deno client's own parts
 * (DeviceConnection, DeviceRuntime, ClientMedia), so the two werift peers do not share an event loop.
 */
import sharp from "sharp";
import { parseConfig } from "../server/config.ts";
import { startServer } from "../server/server.ts";
import { startMediaDevice } from "../tests/helpers/media_device.ts";
import { LineReader } from "./line_process.ts";
import { percentile } from "./stats.ts";

const REQUESTS = 100;
const SUSTAIN_MS = 5000;
const PIPELINE = 4;

if (Deno.args[0] === "--device") {
  const [, wsUrl, key, name, webrtc, chunkBytes, imagePath] = Deno.args;
  const device = await startMediaDevice(wsUrl, key, name, {
    image: await Deno.readFile(imagePath),
    width: 1280,
    height: 800,
    webrtc: webrtc === "1",
    chunkMessageBytes: Number(chunkBytes),
  });
  if (webrtc === "1") await device.channelOpen;
  console.log("ready");
  // Runs until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  await device.close();
  Deno.exit(0);
}

const dataDir = await Deno.makeTempDir({ prefix: "alien3-media-bench-" });
const server = await startServer(
  parseConfig(
    ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--log", "silent"],
    () => undefined,
  ),
);
const key = server.keys.create("device", "bench").secret;
const imagePath = `${dataDir}/frame.jpg`;
const jpeg = await sharp({
  create: {
    width: 1280,
    height: 800,
    channels: 3,
    background: "#3060a0",
    noise: { type: "gaussian", mean: 128, sigma: 14 },
  },
}).jpeg({ quality: 80 }).toBuffer();
await Deno.writeFile(imagePath, jpeg);

interface Spawned {
  name: string;
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

async function spawnDevice(name: string, webrtc: boolean, chunkBytes: number): Promise<Spawned> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "--device",
      server.wsUrl,
      key,
      name,
      webrtc ? "1" : "0",
      String(chunkBytes),
      imagePath,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // The device prints nothing after `ready`.
  const output = new LineReader(child.stdout);
  await output.until("ready");
  void output.cancel();
  return { name, child, writer: child.stdin.getWriter() };
}

async function latency(name: string): Promise<{ p50: number; p99: number; path: string }> {
  const id = server.gateway.device(name)!.id;
  for (let i = 0; i < 5; i++) await server.frames.getFrame(id, { fresh: true });
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const frame = await server.frames.getFrame(id, { fresh: true });
    times.push(performance.now() - started);
    if (frame === null || frame.image.byteLength !== jpeg.byteLength) {
      throw new Error(`bad frame from ${name}`);
    }
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), path: server.frames.latest(id)!.path };
}

async function sustained(
  name: string,
): Promise<{ fps: number; mbps: number; pingP50: number; pingP99: number }> {
  const id = server.gateway.device(name)!.id;
  const started = performance.now();
  let frames = 0;
  let bytes = 0;
  // The control path's round trip while frames flow: what head-of-line blocking costs control messages.
  const pings: number[] = [];
  const pinging = (async () => {
    while (performance.now() - started < SUSTAIN_MS) {
      const rttMs = await server.gateway.ping(id, 5000);
      if (rttMs !== null) pings.push(rttMs);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await Promise.all(Array.from({ length: PIPELINE }, async () => {
    while (performance.now() - started < SUSTAIN_MS) {
      const frame = await server.frames.getFrame(id, { fresh: true });
      if (frame === null) throw new Error(`no frame from ${name}`);
      frames++;
      bytes += frame.image.byteLength;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pinging;
  pings.sort((a, b) => a - b);
  return {
    fps: frames / seconds,
    mbps: bytes / seconds / 1e6,
    pingP50: percentile(pings, 0.5),
    pingP99: percentile(pings, 0.99),
  };
}

const devices: Spawned[] = [];
try {
  devices.push(await spawnDevice("dc-256k", true, 256 * 1024));
  devices.push(await spawnDevice("dc-64k", true, 64 * 1024));
  devices.push(await spawnDevice("dc-16k", true, 16 * 1024));
  devices.push(await spawnDevice("wss", false, 64 * 1024));
  console.log(
    `\n## REQUEST_FRAME → image at the Brain, 1280x800 JPEG of ${(jpeg.byteLength / 1024).toFixed(0)} KiB, ` +
      `${REQUESTS} requests each (device in its own process)`,
  );
  console.log("| path | message size | p50 ms | p99 ms |\n| --- | --- | ---: | ---: |");
  const rows: Array<[string, string, string]> = [
    ["dc-256k", "data channel", "256 KiB"],
    ["dc-64k", "data channel", "64 KiB"],
    ["dc-16k", "data channel", "16 KiB"],
    ["wss", "STREAM_FRAME (WebSocket)", "one frame"],
  ];
  const p50: Record<string, number> = {};
  for (const [name, label, size] of rows) {
    const result = await latency(name);
    if ((name === "wss") !== (result.path === "wss")) throw new Error(`${name} used ${result.path}`);
    p50[name] = result.p50;
    console.log(`| ${label} | ${size} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} |`);
  }
  console.log(`Data channel (64 KiB) p50 / STREAM_FRAME p50: ${(p50["dc-64k"] / p50["wss"]).toFixed(2)}x`);

  console.log(`\n## Sustained, ${PIPELINE} requests in flight for ${SUSTAIN_MS / 1000} s each, same run`);
  console.log(
    "| path | frames/s | MB/s | control-path PING p50 ms | PING p99 ms |\n| --- | ---: | ---: | ---: | ---: |",
  );
  const rates: Record<string, number> = {};
  for (
    const [name, label] of [["dc-64k", "data channel (64 KiB messages)"], ["wss", "WebSocket (STREAM_FRAME)"]]
  ) {
    const { fps, mbps, pingP50, pingP99 } = await sustained(name);
    rates[name] = mbps;
    console.log(
      `| ${label} | ${fps.toFixed(1)} | ${mbps.toFixed(1)} | ${pingP50.toFixed(2)} | ${pingP99.toFixed(2)} |`,
    );
  }
  console.log(`WebSocket MB/s / data channel MB/s: ${(rates["wss"] / rates["dc-64k"]).toFixed(1)}x`);
} finally {
  for (const device of devices) {
    await device.writer.close().catch(() => {});
    await device.child.status;
  }
  await server.close();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
