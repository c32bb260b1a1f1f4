/** Starts a whole server from a config: store, keys, gateway, dispatcher, HTTP. Used by main.ts and tests. */
import { type Clock, systemClock } from "../shared/clock.ts";
import { dagRoutes } from "./api/dags.ts";
import { deviceRoutes } from "./api/devices.ts";
import { eventRoutes } from "./api/events.ts";
import { ArtifactStore } from "./artifacts/store.ts";
import { ArtifactTransfers } from "./artifacts/transfer.ts";
import { keyRoutes } from "./api/keys.ts";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import type { ServerConfig } from "./config.ts";
import { ActionDispatcher } from "./gateway/action_dispatcher.ts";
import { DeviceGateway } from "./gateway/gateway.ts";
import { createApp, DEVICE_PATH } from "./http/app.ts";
import { createLogger, type Logger } from "./log.ts";
import { recordDeviceEvents } from "./orion/device_events.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "./orion/event_log.ts";
import { NodeRunner } from "./orion/node_runner.ts";
import { ORION_MIGRATIONS, OrionService } from "./orion/service.ts";
import { TaskChannel } from "./orion/task_channel.ts";
import { type Database, openDatabase } from "./store/db.ts";

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
  close(): Promise<void>;
}

/** Options beyond the config. */
export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** How often the key store looks for revocations made by the keys CLI (default 1 s). */
  keyPollMs?: number;
}

/** Starts the server and resolves once it listens. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log);
  await Deno.mkdir(config.dataDir, { recursive: true });
  const db = openDatabase(config.dataDir, [...KEY_MIGRATIONS, ...EVENT_LOG_MIGRATIONS, ...ORION_MIGRATIONS]);
  const keys = new KeyStore(db, { now: () => clock.now(), pollMs: options.keyPollMs ?? 1000 });
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
  });
  const now = () => clock.now();
  const dispatcher = new ActionDispatcher({ gateway, now, newId: () => crypto.randomUUID() });
  const tasks = new TaskChannel(gateway);
  const runner = new NodeRunner({ gateway, dispatcher, tasks, now });
  const events = new EventLog(db);
  // Before the Orion service subscribes: a device's own event precedes the transitions it causes.
  const stopDeviceEvents = recordDeviceEvents({ gateway, log: events, now });
  const eventStreams = new AbortController();
  const store = await ArtifactStore.open({ dataDir: config.dataDir, clock });
  const orion = new OrionService({ db, log: events, gateway, runner, store, clock, logger: log });
  const transfers = new ArtifactTransfers({
    gateway,
    store,
    authorize: orion.authorize,
    maxArtifactBytes: config.maxArtifactBytes,
    bufferedBytes: (deviceId) => gateway.bufferedBytes(deviceId),
    onStored: (dagId, artifact) => orion.submit({ type: "artifact-stored", dagId, artifact }),
    clock,
  });
  orion.start();
  const app = createApp({
    keys,
    log,
    acceptDeviceSocket: (socket) => gateway.accept(socket),
    api: {
      "/devices": deviceRoutes({ gateway, dispatcher }),
      "/keys": keyRoutes(keys),
      "/dags": dagRoutes({ orion, store, now }),
      "/events": eventRoutes(events, { keys, signal: eventStreams.signal }),
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
    async close() {
      orion.close();
      await transfers.close();
      tasks.close();
      dispatcher.close();
      await gateway.close();
      stopDeviceEvents();
      eventStreams.abort();
      await server.shutdown();
      keys.close();
      db.close();
    },
  };
}
