/** Starts a whole server from a config: store, keys, gateway, dispatcher, HTTP. Used by main.ts and tests. */
import { systemClock, type Timers } from "../shared/clock.ts";
import { type IdSource, randomIds } from "../shared/ids.ts";
import { dagRoutes } from "./api/dags.ts";
import { deviceRoutes } from "./api/devices.ts";
import { eventRoutes } from "./api/events.ts";
import { ArtifactStore } from "./artifacts/store.ts";
import { ArtifactTransfers } from "./artifacts/transfer.ts";
import { keyRoutes } from "./api/keys.ts";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import { STEP_LOG_MIGRATIONS, StepLog } from "./brain/step_log.ts";
import type { ServerConfig } from "./config.ts";
import { ActionDispatcher } from "./gateway/action_dispatcher.ts";
import { KNOWN_DEVICES_MIGRATIONS, KnownDevices } from "./store/known_devices.ts";
import { DeviceGateway } from "./gateway/gateway.ts";
import { createApp, DEVICE_PATH } from "./http/app.ts";
import { createLogger, type Logger } from "./log.ts";
import { recordDeviceEvents } from "./orion/device_events.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "./orion/event_log.ts";
import { NodeRunner } from "./orion/node_runner.ts";
import { createBrain } from "./brain/mod.ts";
import { TesseractOcr, tesseractVersion } from "./brain/ocr.ts";
import { CachedOcr } from "./brain/ocr_cache.ts";
import { findText } from "./brain/text_match.ts";
import { approvalListRoutes } from "./api/approvals.ts";
import { taskRoutes } from "./api/tasks.ts";
import { ORION_MIGRATIONS, OrionService } from "./orion/service.ts";
import { TaskChannel } from "./orion/task_channel.ts";
import { type Database, openStore } from "./store/db.ts";
import { toStorageError } from "./store/errors.ts";
import { STORE_HEALTH_MIGRATIONS, StoreHealth } from "./store/health.ts";
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
  const dispatcher = new ActionDispatcher({ gateway, clock, newId: options.newId ?? randomIds });
  const tasks = new TaskChannel(gateway);
  const events = new EventLog(db);
  // One transaction per turn of the event loop for the scheduler's inputs and the step log's rows.
  const turn = new TurnCommit(db);
  const ocrVersion = await tesseractVersion();
  if (ocrVersion === null) {
    log.warn("Screen text is unavailable: `tesseract` does not run here", {
      effect: "waitFor text and clickText fail with ocr-unavailable; agents get no text hints",
      fix: "install Debian's tesseract-ocr and tesseract-ocr-eng",
    });
  }
  const brain = createBrain({
    config,
    dispatcher,
    clock,
    ocr: ocrVersion === null ? null : new CachedOcr(new TesseractOcr()),
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
    api: {
      "/devices": deviceRoutes({ gateway, dispatcher, orion }),
      "/keys": keyRoutes(keys),
      "/dags": dagRoutes({ orion, store, steps, approvals: brain.approvals }),
      "/approvals": approvalListRoutes(brain.approvals),
      "/tasks": taskRoutes({ model: brain.model, devices: () => gateway.devices(), orion }),
      "/events": eventRoutes(events, { keys, signal: eventStreams.signal, clock }),
    },
  });
  const tls = config.tlsCert && config.tlsKey
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
    async close() {
      health.close();
      orion.close();
      await transfers.close();
      tasks.close();
      dispatcher.close();
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
