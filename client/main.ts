/**
 * The device client: `deno task client --connect ws(s)://host:8080 --key KEY [--name N] [--tags a,b]
 * [--files-dir DIR] [--data-dir DIR] [--log text|json] [--max-tasks N] [--allow-run] [--webrtc] [--ca-file PEM |
 * --insecure-fingerprint SHA256]`. Joins the network, reports its capabilities, executes actions through the
 * Node helper (or joins headless without a display), sends frames on a WebRTC data channel with `--webrtc`
 * (STREAM_FRAME otherwise), and exits cleanly on SIGINT/SIGTERM. With an enrollment key it stores the key the
 * server mints for it in the data dir and joins with that key from then on. Exit codes: 0 stopped by a
 * signal, 2 bad flags or an unreadable --ca-file, 3 key or version refused, 4 server unreachable, 5 the
 * server's TLS refused (untrusted certificate, name or fingerprint mismatch, TLS on one side only).
 */
import { systemClock } from "../shared/clock.ts";
import { ArtifactClient } from "./artifacts.ts";
import { DeviceConnection } from "./connection.ts";
import { createBody } from "./body.ts";
import { CredentialStore } from "./credentials.ts";
import { wantsHelp } from "../shared/flags.ts";
import { clientHelp, parseClientOptions } from "./options.ts";
import { ClientMedia } from "./media.ts";
import { DeviceRuntime } from "./runtime.ts";
import { createReporter } from "./status_line.ts";
import { connectNodeWebSocket } from "./ws_transport.ts";

/** The client's version, sent in CONNECT. */
export const CLIENT_VERSION = "alien3-client/0.1.0";

async function main(): Promise<number> {
  const machine = { hostname: Deno.hostname(), os: Deno.build.os };
  if (wantsHelp(Deno.args)) {
    console.log(clientHelp((name) => Deno.env.get(name), machine).trimEnd());
    return 0;
  }
  const parsed = parseClientOptions(Deno.args, (name) => Deno.env.get(name), machine);
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
  reporter.event(`Files dir: ${options.filesDir} (launched apps and run steps start here)`, {
    filesDir: options.filesDir,
  });
  const credentials = new CredentialStore(options.dataDir);
  const credentialFile = credentials.pathFor(options.connect, options.name);
  let stored;
  try {
    stored = await credentials.load(options.connect, options.name, options.key);
  } catch (error) {
    reporter.error((error as Error).message);
    return 2;
  }
  if (stored !== null) {
    reporter.event(`Joining with this device's own key (${stored.keyId}) from ${credentialFile}`, {
      keyId: stored.keyId,
    });
  }
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
    key: stored?.secret ?? options.key,
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
    onCredential: (credential) => {
      credentials.save(options.connect, options.name, options.key, credential, new Date()).then(
        (path) => reporter.event(`Enrolled: this device's own key ${credential.keyId} is stored in ${path}`),
        (error) =>
          reporter.error(
            `Cannot store this device's key ${credential.keyId} in ${credentialFile}: ${
              (error as Error).message
            }; the next start will be refused (device-already-enrolled) until that key is revoked`,
          ),
      );
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
  const fromStore = stored !== null && reason.kind === "fatal" &&
    (reason.code === "unauthorized" || reason.code === "key-revoked");
  reporter.error(
    fromStore
      ? `${reason.message}: the key stored in ${credentialFile} was refused; delete that file to enroll again`
      : reason.message,
  );
  return { fatal: 3, unreachable: 4, tls: 5 }[reason.kind];
}

if (import.meta.main) Deno.exit(await main());
