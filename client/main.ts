/**
 * The device client: `deno task client --connect ws(s)://host:8080 --key KEY [--name N] [--tags a,b]
 * [--files-dir DIR] [--log text|json] [--max-tasks N] [--allow-run] [--webrtc] [--ca-file PEM |
 * --insecure-fingerprint SHA256]`. Joins the network, reports its capabilities, executes actions through
 * the Node helper (or joins headless without a display), sends frames on a WebRTC data channel with
 * `--webrtc` (STREAM_FRAME otherwise), and exits cleanly on SIGINT/SIGTERM. Exit codes: 0 stopped by a
 * signal, 2 bad flags or an unreadable --ca-file, 3 key or version refused, 4 server unreachable, 5 the
 * server's TLS refused (untrusted certificate, name or fingerprint mismatch, TLS on one side only).
 */
import { systemClock } from "../shared/clock.ts";
import { ArtifactClient } from "./artifacts.ts";
import { DeviceConnection } from "./connection.ts";
import { createBody } from "./body.ts";
import { parseClientOptions } from "./options.ts";
import { ClientMedia } from "./media.ts";
import { DeviceRuntime } from "./runtime.ts";
import { createReporter } from "./status_line.ts";
import { connectNodeWebSocket } from "./ws_transport.ts";

/** The client's version, sent in CONNECT. */
export const CLIENT_VERSION = "alien3-client/0.1.0";

async function main(): Promise<number> {
  const parsed = parseClientOptions(Deno.args, (name) => Deno.env.get(name), {
    hostname: Deno.hostname(),
    os: Deno.build.os,
  });
  if (!parsed.ok) {
    console.error(parsed.message);
    return 2;
  }
  const options = parsed.options;
  let ca: string | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = await Deno.readTextFile(options.caFile);
    } catch (error) {
      console.error(`Invalid --ca-file: cannot read ${options.caFile}: ${(error as Error).message}`);
      return 2;
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      console.error(
        `Invalid --ca-file: ${options.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
      return 2;
    }
  }
  const reporter = createReporter(options.log, Deno.stderr.isTerminal());
  await Deno.mkdir(options.filesDir, { recursive: true });
  const body = await createBody({
    name: options.name,
    tags: options.tags,
    filesDir: options.filesDir,
    maxTasks: options.maxTasks,
    allowRun: options.allowRun,
    webrtc: options.webrtc,
    reporter,
  });
  let media: ClientMedia | null = null;
  let connectionState = "connecting";
  let runtime: DeviceRuntime | null = null;
  const connection = new DeviceConnection({
    url: options.connect,
    key: options.key,
    clientVersion: CLIENT_VERSION,
    clock: systemClock,
    connect: (url) => connectNodeWebSocket(url, { ca, fingerprint: options.insecureFingerprint }),
    capabilities: () => body.capabilities(),
    onMessage: (message) => {
      if (media?.handle(message)) return;
      runtime?.handle(message);
    },
    onStatus: (status, detail) => {
      connectionState = status === "ready"
        ? `connected as ${detail}`
        : `${status}${detail ? ` (${detail})` : ""}`;
      reporter.status({ connection: connectionState, ...runtime!.status });
    },
    onNewSession: () => {
      runtime?.reset();
      media?.reset();
    },
  });
  // The server offers only to a device whose capabilities say webrtc (a screen to capture and --webrtc).
  if (options.webrtc) {
    media = new ClientMedia({
      send: (type, payload) => connection.send(type, payload),
      onPath: (path) => reporter.event(`Frames travel by ${path === "webrtc" ? "WebRTC" : "WebSocket"}`),
    });
  }
  const files = new ArtifactClient({ link: connection, filesDir: options.filesDir });
  runtime = new DeviceRuntime({
    sender: connection,
    executor: body.executor,
    files,
    clock: systemClock,
    frames: media ?? undefined,
    onStatus: (status) => reporter.status({ connection: connectionState, ...status }),
  });
  const stop = (signal: string) => connection.stop(`received ${signal}`);
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  connection.start();
  const reason = await connection.stopped;
  files.close();
  await media?.close();
  await body.close();
  if (reason.kind === "requested") {
    reporter.event(`Stopped: ${reason.message}`);
    return 0;
  }
  reporter.error(reason.message);
  return { fatal: 3, unreachable: 4, tls: 5 }[reason.kind];
}

if (import.meta.main) Deno.exit(await main());
