/** Starts a whole server from a config: store, keys, gateway, dispatcher, HTTP. Used by main.ts and tests. */
import { systemClock, type Timers } from "../shared/clock.ts";
import { type IdSource, randomIds } from "../shared/ids.ts";
import { dagRoutes } from "./api/dags.ts";
import { deviceRoutes } from "./api/devices.ts";
import { eventRoutes } from "./api/events.ts";
import { schemaRoutes } from "./api/schema.ts";
import { ArtifactStore } from "./artifacts/store.ts";
import { type CheckedOcrEngine, TesseractOcr } from "./brain/ocr.ts";
import { ArtifactTransfers } from "./artifacts/transfer.ts";
import { keyRoutes } from "./api/keys.ts";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import { STEP_LOG_MIGRATIONS, StepLog } from "./brain/step_log.ts";
import type { ServerConfig } from "./config.ts";
import { ActionDispatcher } from "./gateway/action_dispatcher.ts";
import { KNOWN_DEVICES_MIGRATIONS, KnownDevices } from "./store/known_devices.ts";
import { DeviceGateway } from "./gateway/gateway.ts";
import { DeviceRetention } from "./gateway/retention.ts";
import type { DeviceView } from "./gateway/types.ts";
import { createApp, DEVICE_PATH } from "./http/app.ts";
import { bundleBytes, DASHBOARD_CSS_URL, DASHBOARD_PAGE_URL, DEVICE_PAGE_URL } from "./http/web_bundle.ts";
import { createLogger, type Logger } from "./log.ts";
import { recordDeviceEvents } from "./orion/device_events.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "./orion/event_log.ts";
import { NodeRunner } from "./orion/node_runner.ts";
import { createBrain } from "./brain/mod.ts";
import { CachedOcr } from "./brain/ocr_cache.ts";
import { findText } from "./brain/text_match.ts";
import { FrameStore, type MediaOptions, MediaService } from "./media/mod.ts";
import { captureThrough } from "./media/frame_capture.ts";
import { approvalListRoutes } from "./api/approvals.ts";
import { taskRoutes } from "./api/tasks.ts";
import { ORION_MIGRATIONS, OrionService } from "./orion/service.ts";
import { TaskChannel } from "./orion/task_channel.ts";
import { type Database, openStore } from "./store/db.ts";
import { toStorageError } from "./store/errors.ts";
import { STORE_HEALTH_MIGRATIONS, StoreHealth } from "./store/health.ts";
import { type SelfSignedTls, selfSignedTls } from "./tls/self_signed.ts";
import { TurnCommit } from "./store/turn_commit.ts";

/** A running server. */
export interface RunningServer {
  port: number;
  /** `http(s)://127.0.0.1:port` */
  url: string;
  /** `ws(s)://127.0.0.1:port/v1/device` */
  wsUrl: string;
  config: ServerConfig;
  db: Database;
  keys: KeyStore;
  gateway: DeviceGateway;
  dispatcher: ActionDispatcher;
  orion: OrionService;
  steps: StepLog;
  /** Device peers, the latest-frame store (`frames.getFrame`) and live-view relays. */
  media: MediaService;
  frames: FrameStore;
  /** The certificate `--tls-self-signed` issued or reused (its fingerprint, its CA file), else null. */
  selfSigned: SelfSignedTls | null;
  /** Screen text for steps that see; may be unavailable (its reads then fail with `ocr-unavailable`). */
  ocr: CheckedOcrEngine;
  close(): Promise<void>;
}

/** Options beyond the config. */
export interface StartOptions {
  clock?: Timers;
  log?: Logger;
  /** How often the key store looks for revocations made by the keys CLI (default 1 s). */
  keyPollMs?: number;
  /** Longest pause between retries while the store refuses writes (default 5 s). */
  storeRetryMaxMs?: number;
  /** Scheduler inputs between snapshots (default 10,000). */
  snapshotEveryInputs?: number;
  /** Ids of sessions and actions; default random UUIDs. */
  newId?: IdSource;
  /** How long a device stays off-limits to GUI nodes after an operator's last action (default 2 s). */
  operatorIdleMs?: number;
  /** WebRTC settings (ICE servers, host addresses, connect timeout; tests refuse every candidate pair). */
  media?: MediaOptions;
  /** The OCR engine (default: the `tesseract` CLI). */
  ocr?: CheckedOcrEngine;
}

/** Every module's migrations, in one list. */
export const SERVER_MIGRATIONS = [
  ...KEY_MIGRATIONS,
  ...EVENT_LOG_MIGRATIONS,
  ...ORION_MIGRATIONS,
  ...STORE_HEALTH_MIGRATIONS,
  ...KNOWN_DEVICES_MIGRATIONS,
  ...STEP_LOG_MIGRATIONS,
];

/**
 * Starts the server and resolves once it listens. A store that cannot be opened, fails its check or
 * cannot be replayed throws `StoreOpenError` (one line naming the file); a full disk does not stop it:
 * it starts read-only and takes writes once they succeed.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log);
  await Deno.mkdir(config.dataDir, { recursive: true });
  // Peers check certificates against their wall clock, so the certificate's dates come from it too.
  const selfSigned = config.tlsSelfSigned
    ? await selfSignedTls({ dir: `${config.dataDir}/tls`, names: config.tlsSelfSigned, now: new Date() })
    : null;
  const { db, file, exclusive } = openStore(config.dataDir, SERVER_MIGRATIONS, { check: true });
  if (exclusive) {
    log.warn("Store opened with an exclusive lock: no room on disk for the shared-memory index", {
      file,
      effect: "the keys and store CLIs wait until the server restarts",
    });
  }
  const health = new StoreHealth({ file, logger: log, clock, retryMaxMs: options.storeRetryMaxMs });
  const devices = new KnownDevices(db);
  const keys = new KeyStore(db, { clock, pollMs: options.keyPollMs ?? 1000 });
  const gateway = new DeviceGateway({
    keys,
    clock,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    resumeGraceMs: config.resumeGraceMs,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxJsonBytes: config.maxJsonBytes,
      maxMessagesPerSecond: config.maxMessagesPerSecond,
    },
    log,
    known: devices.known(),
    newId: options.newId,
  });
  const now = () => clock.now();
  const frames = new FrameStore({
    clock,
    request: captureThrough(() => dispatcher),
  });
  const dispatcher = new ActionDispatcher({
    gateway,
    clock,
    newId: options.newId ?? randomIds,
    onFrame: (deviceId, frame, path) => frames.put(deviceId, frame, path),
  });
  const media = new MediaService({
    gateway,
    clock,
    frames,
    frameArrived: (deviceId, frame, path) => dispatcher.frameArrived(deviceId, frame, path),
    newId: options.newId ?? randomIds,
    maxFrameBytes: config.maxFrameBytes,
    log,
    options: options.media,
  });
  const tasks = new TaskChannel(gateway);
  const events = new EventLog(db);
  // One transaction per turn of the event loop for the scheduler's inputs and the step log's rows.
  const turn = new TurnCommit(db);
  // One engine: the Brain reads through it (behind a cache of recent frames' text); whether it can run is found
  // out once, after the store opened (below).
  const ocr = options.ocr ?? new TesseractOcr({ timers: clock });
  const brain = createBrain({
    config,
    dispatcher,
    frames,
    clock,
    ocr: new CachedOcr(ocr),
    findText,
    onApproval: (change) => {
      const { approval, ...rest } = change;
      try {
        events.publish([events.appendApproval(approval.dagId, clock.now(), { ...approval, ...rest })]);
      } catch (error) {
        log.warn("Cannot record an approval event", { error: String(error) });
      }
    },
  });
  const steps = new StepLog({
    db,
    dataDir: config.dataDir,
    logger: log,
    events,
    health,
    file,
    maxFrames: config.maxStepFrames,
    turn,
  });
  const runner = new NodeRunner({
    gateway,
    steps: brain.steps,
    tasks,
    clock,
    onStep: (entry, frame) => void steps.append(entry, frame),
    approvals: brain.approvals,
  });
  // Before the Orion service subscribes: a device's own event precedes the transitions it causes.
  const deviceEvents = recordDeviceEvents({ gateway, log: events, now });
  const eventStreams = new AbortController();
  const stopEarly = async () => {
    health.close();
    tasks.close();
    dispatcher.close();
    await media.close();
    deviceEvents.stop();
    await gateway.close();
    await steps.close();
    keys.close();
    db.close();
  };
  let store: ArtifactStore;
  let orion: OrionService;
  try {
    store = await ArtifactStore.open({ dataDir: config.dataDir, clock });
    orion = new OrionService({
      db,
      log: events,
      gateway,
      runner,
      store,
      clock,
      logger: log,
      devices,
      health,
      dataDir: config.dataDir,
      file,
      snapshotEveryInputs: options.snapshotEveryInputs,
      newId: options.newId ?? randomIds,
      operatorIdleMs: options.operatorIdleMs,
      agent: brain.agent,
      turn,
    });
    deviceEvents.followBusy(orion.events);
    orion.start();
  } catch (error) {
    await stopEarly();
    throw error;
  }
  // Forgetting: the stored row first (a refused write changes nothing), then the gateway, whose event
  // tells the scheduler. Only an offline device is forgotten; all of it happens in one turn.
  const forgetDevice = (device: DeviceView, reason: string): DeviceView | null => {
    if (gateway.device(device.id)?.state !== "offline") return null;
    devices.forget(device.id);
    return gateway.forget(device.id, reason);
  };
  const retention = new DeviceRetention({
    clock,
    retentionMs: config.deviceRetentionMs,
    devices: () => gateway.devices(),
    forget: (device) => void forgetDevice(device, "retention"),
    onError: (device, error) =>
      log.warn("Cannot forget a device past its retention; trying again later", {
        deviceId: device.id,
        error: String(error),
      }),
  });
  // Found out once and said once, after the store opened (a store that cannot open stops the server with
  // one line); nothing but steps that read the screen needs it.
  const screenText = await ocr.available();
  if (screenText.ok) {
    log.info("Screen text ready", { engine: `${ocr.name} ${screenText.version}` });
  } else {
    log.warn("Screen text unavailable: steps that read the screen will fail", { error: screenText.failure });
  }
  const transfers = new ArtifactTransfers({
    gateway,
    store,
    authorize: orion.authorize,
    maxArtifactBytes: config.maxArtifactBytes,
    bufferedBytes: (deviceId) => gateway.bufferedBytes(deviceId),
    onStored: (dagId, artifact) => orion.record({ type: "artifact-stored", dagId, artifact }),
    clock,
  });
  const app = createApp({
    keys,
    log,
    health: () => {
      const report = health.report();
      return report.status === "ok" ? report : { ...report, pendingInputs: orion.pendingInputs };
    },
    storageFailure: (error) => {
      const failure = toStorageError(error, file);
      if (failure !== null) health.failed(failure);
      return failure;
    },
    acceptDevice: (transport) => gateway.accept(transport),
    devicePage: {
      html: () => Deno.readFile(DEVICE_PAGE_URL),
      script: () => bundleBytes("device", `${config.dataDir}/web`),
    },
    dashboard: {
      html: () => Deno.readFile(DASHBOARD_PAGE_URL),
      script: () => bundleBytes("dashboard", `${config.dataDir}/web`),
      css: () => Deno.readFile(DASHBOARD_CSS_URL),
    },
    api: {
      "/devices": deviceRoutes({
        gateway,
        dispatcher,
        orion,
        media,
        steps: brain.steps,
        forget: (device) => forgetDevice(device, "operator"),
      }),
      "/keys": keyRoutes(keys),
      "/dags": dagRoutes({ orion, store, steps, approvals: brain.approvals }),
      "/approvals": approvalListRoutes(brain.approvals),
      "/tasks": taskRoutes({ model: brain.model, devices: () => gateway.devices(), orion }),
      "/events": eventRoutes(events, { keys, signal: eventStreams.signal, clock }),
      "/schema": schemaRoutes(),
    },
  });
  const tls = selfSigned !== null
    ? { cert: selfSigned.cert, key: selfSigned.key }
    : config.tlsCert && config.tlsKey
    ? { cert: await Deno.readTextFile(config.tlsCert), key: await Deno.readTextFile(config.tlsKey) }
    : undefined;
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: config.host, port: config.port, ...tls, onListen: ({ port }) => listening.resolve(port) },
    app.fetch,
  );
  const port = await listening.promise;
  const secure = tls !== undefined;
  return {
    port,
    url: `${secure ? "https" : "http"}://127.0.0.1:${port}`,
    wsUrl: `${secure ? "wss" : "ws"}://127.0.0.1:${port}${DEVICE_PATH}`,
    config,
    db,
    keys,
    gateway,
    dispatcher,
    orion,
    steps,
    media,
    frames,
    selfSigned,
    ocr,
    async close() {
      retention.close();
      health.close();
      orion.close();
      await transfers.close();
      tasks.close();
      dispatcher.close();
      await media.close();
      await gateway.close();
      deviceEvents.stop();
      eventStreams.abort();
      await server.shutdown();
      await steps.close();
      keys.close();
      db.close();
    },
  };
}
