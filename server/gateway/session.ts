/**
 * Device sessions: the handshake (CONNECT → ACK → REGISTER_CAPABILITIES → READY), resume after a dropped
 * socket within the grace window, heartbeats, and the end of a session. A session outlives its socket, so
 * reliable messages in either direction survive a drop exactly once and in order (its `ReliableChannel`).
 * Inputs arrive as `handleX()` calls; what a device becomes (ready, offline, its RTT) is told to the
 * registry, which reports it as events.
 *
 * Identity: a device is its key and its name. A key bound to a device name admits only that name; an
 * enrollment key has a device key minted for the name at registration (sent once in READY), and the session
 * goes on under that key. A second client registering as a device whose session still has a socket is
 * refused (`device-already-connected`); a session without a socket (waiting for a resume) is replaced.
 */
import type { Timers } from "../../shared/clock.ts";
import type { IdSource } from "../../shared/ids.ts";
import {
  type Capabilities,
  type ChannelOptions,
  CloseCodes,
  type Credential,
  Heartbeat,
  type Limits,
  type Message,
  MIN_PROTOCOL_VERSION,
  type PayloadInputOf,
  type PayloadOf,
  PROTOCOL_VERSION,
  protocolError,
  ReliableChannel,
} from "../../shared/protocol/mod.ts";
import type { KeyRecord, KeyVerifier } from "../auth/types.ts";
import type { Connection } from "./connection.ts";
import { deviceIdFor, type DeviceRegistry } from "./registry.ts";

/** One device session. */
export class Session {
  readonly channel: ReliableChannel;
  readonly heartbeat: Heartbeat;
  connection: Connection | null = null;
  /** The device, once registered. */
  deviceId: string | null = null;
  /** When the socket dropped; null while connected. */
  detachedAtMs: number | null = null;
  /** On-demand PINGs (`ping`) awaiting their PONG, by id; made at the first one (idle sessions have none). */
  probes: Map<number, Probe> | null = null;
  nextProbeId = 1_000_000_000;
  /** The key the session runs under: the one presented, or the one minted for an enrolling device. */
  keyId: string;
  /** For an enrolled device: the enrollment key it joined with, and the key minted for it (READY repeats it). */
  enrollment: { enrollKeyId: string; credential: Credential } | null = null;

  constructor(
    readonly id: string,
    readonly key: KeyRecord,
    timers: Timers,
    heartbeatIntervalMs: number,
    channelOptions: ChannelOptions,
  ) {
    this.keyId = key.id;
    this.channel = new ReliableChannel(channelOptions);
    this.heartbeat = new Heartbeat(heartbeatIntervalMs, timers.now());
  }

  /** Whether a CONNECT with `keyId` may resume this session: its own key, or the enrollment key it began with. */
  resumableWith(keyId: string): boolean {
    return this.deviceId !== null && (this.keyId === keyId || this.enrollment?.enrollKeyId === keyId);
  }
}

/** An on-demand PING awaiting its PONG. */
interface Probe {
  /** High-resolution time it was sent. */
  sentAt: number;
  /** Clock time after which it is given up (checked on the gateway's tick: no timer per PING). */
  deadlineMs: number;
  settle(rttMs: number | null): void;
}

/** Session settings. */
export interface SessionOptions {
  keys: KeyVerifier;
  timers: Timers;
  newId: IdSource;
  registry: DeviceRegistry;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeGraceMs: number;
  handshakeTimeoutMs: number;
  limits: Limits;
  log: { info(message: string, fields?: Record<string, unknown>): void };
  /** A high-resolution time source for on-demand round trips (default `performance.now`). */
  preciseNow?: () => number;
}

/** Every session, by id and by device. */
export class SessionManager {
  readonly #options: SessionOptions;
  readonly #sessions = new Map<string, Session>();
  /** One settings object for every session's channel. */
  readonly #channelOptions: ChannelOptions;
  readonly #preciseNow: () => number;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#channelOptions = { timers: options.timers, ackDelayMs: 0 };
    this.#preciseNow = options.preciseNow ?? (() => performance.now());
  }

  /** The live session of a device, if any. */
  ofDevice(deviceId: string): Session | undefined {
    const sessionId = this.#options.registry.get(deviceId)?.sessionId;
    return sessionId ? this.#sessions.get(sessionId) : undefined;
  }

  /** The session a connection serves. */
  ofConnection(connection: Connection): Session | undefined {
    const session = this.#sessions.get(connection.sessionId ?? "");
    return session?.connection === connection ? session : undefined;
  }

  /** CONNECT: checks the version and the key, then opens a session or resumes one. */
  handleConnect(connection: Connection, hello: PayloadOf<"CONNECT">): void {
    if (hello.protocolVersion < MIN_PROTOCOL_VERSION || hello.protocolVersion > PROTOCOL_VERSION) {
      const upgrade = hello.protocolVersion > PROTOCOL_VERSION ? "server" : "client";
      const detail = `client speaks ${hello.protocolVersion}, server supports ` +
        `${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}; update the ${upgrade}`;
      return connection.fail(protocolError("version-unsupported", detail), CloseCodes.versionUnsupported);
    }
    const key = this.#options.keys.verify(hello.token);
    if (key === null) return connection.fail(protocolError("unauthorized"), CloseCodes.unauthorized);
    if (key.scope === "operator") {
      return connection.fail(
        protocolError("wrong-scope", "an operator key cannot connect a device"),
        CloseCodes.unauthorized,
      );
    }
    connection.keyId = key.id;
    const resumable = hello.resume && this.#sessions.get(hello.resume.sessionId);
    if (resumable && resumable.resumableWith(key.id)) {
      return this.#resume(connection, resumable, hello.resume!.lastSeq, key.id);
    }
    const { timers, heartbeatIntervalMs } = this.#options;
    const session = new Session(
      this.#options.newId(),
      key,
      timers,
      heartbeatIntervalMs,
      this.#channelOptions,
    );
    this.#sessions.set(session.id, session);
    session.connection = connection;
    connection.sessionId = session.id;
    connection.phase = "awaiting-capabilities";
    connection.send("ACK", this.#ack(session, false));
  }

  /**
   * REGISTER_CAPABILITIES: the device joins, if its key admits the name and no other client is connected as
   * the same device (an older session without a socket is replaced).
   */
  handleRegister(connection: Connection, capabilities: Capabilities): void {
    const session = this.#sessions.get(connection.sessionId!)!;
    const name = capabilities.name;
    const { key } = session;
    if (key.device !== null && key.device !== name) {
      const detail =
        `key ${key.name} is bound to device ${key.device}; start the client with --name ${key.device}`;
      return this.#refuse(connection, session, protocolError("key-bound-to-other-device", detail));
    }
    // A minted key is new, so no other client can be connected as the device it makes.
    if (key.scope === "enroll") return this.#enroll(connection, session, capabilities);
    const deviceId = deviceIdFor(session.keyId, name);
    const stale = this.ofDevice(deviceId);
    if (stale !== undefined && stale !== session) {
      if (stale.connection !== null) {
        const detail = `${name} is connected from another client with this key; stop one of them`;
        return this.#refuse(
          connection,
          session,
          protocolError("device-already-connected", detail),
          CloseCodes.deviceAlreadyConnected,
        );
      }
      this.end(stale, "session-replaced", CloseCodes.sessionReplaced);
    }
    this.#join(connection, session, deviceId, capabilities);
  }

  /** An enrolling device: a key bound to its name is minted, and the session goes on under it. */
  #enroll(connection: Connection, session: Session, capabilities: Capabilities): void {
    const minted = this.#options.keys.enroll(session.key.id, capabilities.name);
    if (minted === null) {
      const detail = `${capabilities.name} already has a live key; revoke it (deno task keys revoke ` +
        `${capabilities.name}) to enroll this name again, or join with the key the device stored`;
      return this.#refuse(connection, session, protocolError("device-already-enrolled", detail));
    }
    session.keyId = minted.record.id;
    session.enrollment = {
      enrollKeyId: session.key.id,
      credential: { keyId: minted.record.id, secret: minted.secret },
    };
    connection.keyId = minted.record.id;
    this.#options.log.info("device enrolled", { name: capabilities.name, keyId: minted.record.id });
    this.#join(connection, session, deviceIdFor(minted.record.id, capabilities.name), capabilities);
  }

  #join(connection: Connection, session: Session, deviceId: string, capabilities: Capabilities): void {
    const { registry } = this.#options;
    session.channel.attach(connection.transport);
    session.deviceId = deviceId;
    session.heartbeat.restart(this.#options.timers.now());
    connection.phase = "ready";
    // READY goes out before anyone hears of the device, so work sent on `device-ready` follows it.
    connection.send("READY", this.#ready(session, deviceId, capabilities.name, true));
    registry.register(session.keyId, capabilities, session.id);
    this.#options.log.info("device ready", { deviceId, name: capabilities.name });
  }

  /** Refuses a registration: ERROR, close (4001 unless said), and the unregistered session is dropped. */
  #refuse(
    connection: Connection,
    session: Session,
    error: ReturnType<typeof protocolError>,
    closeCode: number = CloseCodes.unauthorized,
  ): void {
    this.#sessions.delete(session.id);
    session.channel.close();
    session.connection = null;
    connection.sessionId = null;
    connection.fail(error, closeCode);
  }

  /** READY; with the minted key when the device has not shown yet that it holds it. */
  #ready(session: Session, deviceId: string, name: string, withCredential: boolean): PayloadInputOf<"READY"> {
    const credential = session.enrollment?.credential;
    return credential === undefined || !withCredential ? { deviceId, name } : { deviceId, name, credential };
  }

  /**
   * A message from a READY connection: heartbeat answers, acknowledgements and goodbyes are handled here;
   * the rest comes back (with the device id) to be routed, duplicates excepted. Null when consumed.
   */
  handleMessage(connection: Connection, message: Message): { deviceId: string; message: Message } | null {
    const session = this.ofConnection(connection);
    if (session === undefined || session.deviceId === null) return null;
    const deviceId = session.deviceId;
    const arrivedAtMs = connection.lastHeardAtMs;
    this.#options.registry.heard(deviceId, arrivedAtMs);
    switch (message.type) {
      case "PONG": {
        const probe = session.probes?.get(message.payload.id);
        if (probe !== undefined) {
          session.probes!.delete(message.payload.id);
          probe.settle(this.#preciseNow() - probe.sentAt);
          return null;
        }
        const rttMs = session.heartbeat.pong(message.payload.id, arrivedAtMs);
        if (rttMs !== null) this.#options.registry.rtt(deviceId, rttMs);
        return null;
      }
      case "BYE":
        this.end(session, "bye", CloseCodes.normal);
        return null;
    }
    return session.channel.receive(message) === "deliver" ? { deviceId, message } : null;
  }

  /** The connection closed: its session waits for a resume, or ends (protocol closes, no device yet). */
  handleClosed(connection: Connection, code: number, reason: string): void {
    const session = this.ofConnection(connection);
    if (session === undefined) return;
    session.connection = null;
    session.channel.detach();
    if (session.deviceId === null) {
      this.#sessions.delete(session.id);
      return;
    }
    if (code >= 4000 && code < 4100) return this.end(session, reason);
    session.detachedAtMs = this.#options.timers.now();
    this.#options.registry.detached(session.deviceId);
    this.#options.log.info("device socket lost", { deviceId: session.deviceId, code, reason });
  }

  /** Periodic duties at `nowMs`: expired grace windows, silent devices, due PINGs. */
  handleTick(nowMs: number): void {
    const { heartbeatTimeoutMs, resumeGraceMs } = this.#options;
    for (const session of [...this.#sessions.values()]) {
      if (session.detachedAtMs !== null) {
        if (nowMs - session.detachedAtMs > resumeGraceMs) this.end(session, "connection-lost");
        continue;
      }
      if (session.probes !== null) expireProbes(session.probes, nowMs);
      const connection = session.connection;
      if (connection === null || connection.phase !== "ready") continue;
      const silentMs = nowMs - connection.lastHeardAtMs;
      if (silentMs > heartbeatTimeoutMs) {
        connection.fail(protocolError("heartbeat-timeout", `silent for ${silentMs} ms`));
        this.end(session, "heartbeat-timeout", CloseCodes.heartbeatTimeout);
        continue;
      }
      const ping = session.heartbeat.due(nowMs);
      if (ping !== null) connection.send("PING", ping);
    }
  }

  /**
   * Sends a PING now and resolves with the round-trip time in ms (high resolution), or null when the
   * device is not connected or no PONG comes within `timeoutMs` (give or take a tick of the gateway's).
   */
  ping(deviceId: string, timeoutMs: number): Promise<number | null> {
    const session = this.ofDevice(deviceId);
    const connection = session?.connection;
    if (session === undefined || connection == null || connection.phase !== "ready") {
      return Promise.resolve(null);
    }
    const id = session.nextProbeId++;
    const nowMs = this.#options.timers.now();
    const probes = session.probes ??= new Map();
    return new Promise((settle) => {
      probes.set(id, { sentAt: this.#preciseNow(), deadlineMs: nowMs + timeoutMs, settle });
      connection.send("PING", { id, sentAtMs: nowMs });
    });
  }

  /** Ends every session of a revoked key (their devices go offline). */
  revoke(keyId: string): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.keyId !== keyId) continue;
      session.connection?.fail(protocolError("key-revoked"));
      this.end(session, "key-revoked", CloseCodes.keyRevoked);
    }
  }

  /** Ends a session: its connection closes (with `closeCode`), its device goes offline. */
  end(session: Session, reason: string, closeCode?: number): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    session.channel.close();
    settleProbes(session);
    const connection = session.connection;
    session.connection = null;
    if (connection !== null && closeCode !== undefined) connection.close(closeCode, reason);
    if (session.deviceId === null) return;
    this.#options.log.info("device offline", { deviceId: session.deviceId, reason });
    this.#options.registry.offline(session.deviceId, session.id, reason);
  }

  /** Drops every session without telling anyone (the server is stopping; devices resume or re-register). */
  dispose(): void {
    for (const session of this.#sessions.values()) {
      session.channel.close();
      settleProbes(session);
    }
    this.#sessions.clear();
  }

  /** Resumes `session` on `connection`, whose CONNECT carried `keyId` (the enrollment key: READY repeats the minted one). */
  #resume(connection: Connection, session: Session, peerLastSeq: number, keyId: string): void {
    const previous = session.connection;
    if (previous !== null && previous !== connection) {
      previous.sessionId = null;
      previous.fail(
        protocolError("session-replaced", "the device resumed on a new socket"),
        CloseCodes.sessionReplaced,
      );
    }
    const record = this.#options.registry.get(session.deviceId!)!;
    session.connection = connection;
    session.detachedAtMs = null;
    connection.sessionId = session.id;
    connection.phase = "ready";
    connection.send("ACK", this.#ack(session, true));
    connection.keyId = session.keyId;
    connection.send("READY", this.#ready(session, record.id, record.name, keyId !== session.keyId));
    session.channel.attach(connection.transport);
    session.channel.replayAfter(peerLastSeq);
    session.heartbeat.restart(this.#options.timers.now());
    this.#options.registry.online(record, session.id);
    this.#options.log.info("device resumed", { deviceId: record.id, sessionId: session.id });
  }

  #ack(session: Session, resumed: boolean): PayloadInputOf<"ACK"> {
    const ack: PayloadInputOf<"ACK"> = {
      sessionId: session.id,
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.#options.heartbeatTimeoutMs,
      limits: this.#options.limits,
      resumed,
      lastSeq: session.channel.lastSeq,
    };
    if (resumed && session.deviceId !== null) ack.deviceId = session.deviceId;
    return ack;
  }
}

/** Gives up the probes past their deadline. */
function expireProbes(probes: Map<number, Probe>, nowMs: number): void {
  for (const [id, probe] of probes) {
    if (nowMs < probe.deadlineMs) continue;
    probes.delete(id);
    probe.settle(null);
  }
}

/** Gives up every probe of a session that ends. */
function settleProbes(session: Session): void {
  const probes = session.probes;
  if (probes === null) return;
  session.probes = null;
  for (const probe of probes.values()) probe.settle(null);
}
