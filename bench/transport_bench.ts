/**
 * The device client's transport, one run: a frame action's reply is two messages sent back to back
 * (STREAM_FRAME, then RESULT). Deno's built-in WebSocket client leaves Nagle's algorithm on, so the second
 * waits for the server's delayed ACK; the client's transport on npm `ws` (client/ws_transport.ts) sets
 * TCP_NODELAY. Measured: REQUEST_FRAME → STREAM_FRAME + RESULT at the server (`frames.getFrame`, fresh),
 * p50/p99, for a small and a full-screen JPEG, and a one-message round trip (PING/PONG) for comparison, with
 * each transport, over ws:// and wss:// (a `--tls-self-signed` server and `--ca-file`). Devices are built
 * from the client's own parts (tests/helpers/media_device.ts) with a fixed image as their screen.
 */
import sharp from "sharp";
import { connectNodeWebSocket } from "../client/ws_transport.ts";
import { connectWebSocket } from "../shared/transport/websocket.ts";
import type { Transport } from "../shared/transport/transport.ts";
import { startMediaDevice } from "../tests/helpers/media_device.ts";
import { startTestServer, type TestServer } from "../tests/helpers/server.ts";
import { parseTlsNames } from "../server/tls/names.ts";
import { selfSignedTls } from "../server/tls/self_signed.ts";
import { ascending, percentile } from "./stats.ts";

// Deno's built-in WebSocket trusts a CA only through DENO_CERT, read at start: issue the server's
// certificate first, then run this file again with DENO_CERT naming its CA.
if (Deno.args[0] === undefined) {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-transport-bench-" });
  const names = parseTlsNames("127.0.0.1");
  if (!names.ok) throw new Error(names.message);
  const { caFile } = await selfSignedTls({ dir: `${dataDir}/tls`, names: names.names, now: new Date() });
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, dataDir],
    env: { DENO_CERT: caFile },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  await Deno.remove(dataDir, { recursive: true });
  Deno.exit(code);
}
const dataDir = Deno.args[0];

const REQUESTS = 200;

async function jpeg(width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({
      create: {
        width,
        height,
        channels: 3,
        background: "#3060a0",
        noise: { type: "gaussian", mean: 128, sigma: 14 },
      },
    }).jpeg({ quality: 80 }).toBuffer(),
  );
}

async function timed(run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 10; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

interface Row {
  scheme: string;
  transport: string;
  image: string;
  frame: number[];
  ping: number[];
}

async function measure(
  server: TestServer,
  scheme: string,
  transport: string,
  connect: (url: string) => Promise<Transport>,
  image: { name: string; bytes: Uint8Array; width: number; height: number },
): Promise<Row> {
  const name = `${scheme}-${transport}-${image.name}`.replaceAll(/[^A-Za-z0-9-]/g, "-");
  const device = await startMediaDevice(server.wsUrl, server.deviceKey, name, {
    image: image.bytes,
    width: image.width,
    height: image.height,
    webrtc: false,
    connect,
  });
  try {
    const frame = await timed(async () => {
      const got = await server.frames.getFrame(device.deviceId, { fresh: true });
      if (got === null || got.image.byteLength !== image.bytes.byteLength) {
        throw new Error(`bad frame from ${name}`);
      }
    });
    const ping = await timed(() => server.gateway.ping(device.deviceId));
    return {
      scheme,
      transport,
      image: `${image.name} (${(image.bytes.byteLength / 1024).toFixed(0)} KiB)`,
      frame,
      ping,
    };
  } finally {
    await device.close();
  }
}

const images = [
  { name: "320x200 JPEG", bytes: await jpeg(320, 200), width: 320, height: 200 },
  { name: "1280x800 JPEG", bytes: await jpeg(1280, 800), width: 1280, height: 800 },
];
const rows: Row[] = [];
const plain = await startTestServer(["--max-messages-per-second", "100000"]);
const secure = await startTestServer([
  "--max-messages-per-second",
  "100000",
  "--tls-self-signed",
  "127.0.0.1",
], dataDir);
try {
  const ca = await Deno.readTextFile(secure.selfSigned!.caFile);
  if (secure.selfSigned!.issued !== "reused") throw new Error("the server did not reuse the certificate");
  const before = "Deno WebSocket (before)";
  const now = "npm ws + TCP_NODELAY (now)";
  for (const image of images) {
    rows.push(await measure(plain, "ws", before, (url) => connectWebSocket(url), image));
    rows.push(await measure(plain, "ws", now, (url) => connectNodeWebSocket(url), image));
    rows.push(await measure(secure, "wss", before, (url) => connectWebSocket(url), image));
    rows.push(await measure(secure, "wss", now, (url) => connectNodeWebSocket(url, { ca }), image));
  }
} finally {
  await plain.close();
  await secure.close();
}

console.log(`\n## Device transport: a frame action's two-message reply, ${REQUESTS} sequential, one run`);
console.log(
  "| path | client transport | image | STREAM_FRAME + RESULT p50 ms | p99 ms | PING/PONG p50 ms | p99 ms |",
);
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
for (const row of rows) {
  const cells = [row.frame, row.ping].flatMap((t) =>
    [percentile(ascending(t), 0.5), percentile(ascending(t), 0.99)].map((v) => v.toFixed(2))
  );
  console.log(`| ${row.scheme} | ${row.transport} | ${row.image} | ${cells.join(" | ")} |`);
}
