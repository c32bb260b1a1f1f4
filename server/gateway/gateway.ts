/**
 * The Janus gateway: accepts device sockets, runs the handshake, keeps sessions alive with
 * heartbeats, resumes them across dropped sockets, and routes messages between devices and the
 * rest of the server.
 */
import type { Clock } from "../../shared/clock.ts";
import {
  type Capabilities,
  type Limits,
  maySend,
  type Message,
  type MessageType,
  MIN_PROTOCOL_VERSION,
  type PayloadInputOf,
  PROTOCOL_VERSION,
  protocolError,
  RELIABLE_TYPES,
} from "../../shared/protocol/mod.ts";
import type { KeyVerifier } from "../auth/types.ts";
import { CloseCodes } from "../../shared/protocol/mod.ts";
import { Connection, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { deviceIdFor, type DeviceRecord, Session, viewOf } from "./session.ts";
import type { DeviceView, Gateway, GatewayListener } from "./types.ts";

/** A minimal structured logger. */
export interface GatewayLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Gateway settings and dependencies. */
export interface GatewayOptions {
  keys: KeyVerifier;
  clock: Clock;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeGraceMs: number;
  handshakeTimeoutMs: number;
  limits: Limits;
  /** Protocol errors within `errorWindowMs` that close a connection (default 10 in 60 s). */
  maxErrors?: number;
  errorWindowMs?: number;
  /** Socket buffer above which droppable frames are dropped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Unacknowledged reliable messages a session may hold before `send` refuses more (default 4096). */
  maxUnacked?: number;
  /** How often timers are checked; default a quarter of the heartbeat interval, at most 1 s. */
  tickMs?: number;
  /** Session id source; default `crypto.randomUUID`. */
  newId?: () => string;
  log?: GatewayLog;
  /** Devices known from an earlier run (the device registry), listed offline until they reconnect. */
  known?: readonly DeviceView[];
}

const silent: GatewayLog = { info() {}, warn() {} };

/** The device gateway. */
export class DeviceGateway implements Gateway {
  readonly #options: GatewayOptions;
  readonly #connectionOptions: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  readonly #connections = new Set<Connection>();
  readonly #sessions = new Map<string, Session>();
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #listeners = new Set<GatewayListener>();
  readonly #log: GatewayLog;
  readonly #stopRevokeWatch: () => void;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#log = options.log ?? silent;
    this.#connectionOptions = {
      clock: options.clock,
      limits: options.limits,
      maxErrors: options.maxErrors ?? 10,
      errorWindowMs: options.errorWindowMs ?? 60_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    };
    this.#handler = {
      message: (connection, message) => this.#route(connection, message),
      closed: (connection, code, reason) => this.#detach(connection, code, reason),
    };
    for (const device of options.known ?? []) {
      this.#devices.set(device.id, { ...device, state: "offline", busy: false, sessionId: null });
    }
    this.#stopRevokeWatch = options.keys.onRevoke((keyId) => this.#revoke(keyId));
    const tickMs = options.tickMs ?? Math.min(1000, Math.max(5, Math.floor(options.heartbeatIntervalMs / 4)));
    this.#timer = setInterval(() => this.tick(), tickMs);
  }

  /** Takes over a freshly upgraded device socket. */
  accept(socket: WebSocket): void {
    this.#connections.add(new Connection(socket, this.#connectionOptions, this.#handler));
  }

  send<T extends MessageType>(deviceId: string, type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean {
    const session = this.#sessionOf(deviceId);
    if (session === undefined) return false;
    const connection = session.connection?.phase === "ready" ? session.connection : null;
    if (RELIABLE_TYPES.has(type)) {
      if (session.outbox.pendingCount >= (this.#options.maxUnacked ?? 4096)) return false;
      const stamped = session.outbox.stamp(type, payload);
      connection?.send(type, stamped);
      return true;
    }
    return connection?.send(type, payload as PayloadInputOf<T>, type === "STREAM_FRAME") ?? false;
  }

  /** Sends a PING now; resolves with the round-trip time in ms (high resolution), or null if no PONG comes in time. */
  probe(deviceId: string): Promise<number | null> {
    const session = this.#sessionOf(deviceId);
    const connection = session?.connection;
    if (session === undefined || connection == null || connection.phase !== "ready") {
      return Promise.resolve(null);
    }
    const id = session.heartbeat.nextPingId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        session.probes.delete(id);
        resolve(null);
      }, this.#options.heartbeatTimeoutMs);
      const settle = (rttMs: number | null) => {
        clearTimeout(timer);
        resolve(rttMs);
      };
      session.probes.set(id, { startedAt: performance.now(), resolve: settle });
      connection.send("PING", { id, sentAtMs: this.#options.clock.now() });
    });
  }

  bufferedBytes(deviceId: string): number {
    return this.#sessionOf(deviceId)?.connection?.socket.bufferedAmount ?? 0;
  }

  devices(): DeviceView[] {
    return [...this.#devices.values()].map(viewOf);
  }

  device(id: string): DeviceView | undefined {
    const record = this.#devices.get(id);
    return record && viewOf(record);
  }

  setBusy(deviceId: string, busy: boolean): void {
    const record = this.#devices.get(deviceId);
    if (record === undefined) return;
    record.busy = busy;
    if (record.state !== "ready" && record.state !== "busy") return;
    const before = record.state;
    record.state = busy ? "busy" : "ready";
    if (record.state !== before) this.#emit((listener) => listener.deviceBusy?.(viewOf(record), busy));
  }

  subscribe(listener: GatewayListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends due PINGs and enforces the handshake, heartbeat and resume deadlines. */
  tick(): void {
    const now = this.#options.clock.now();
    for (const connection of this.#connections) {
      const handshaking = connection.phase === "awaiting-connect" ||
        connection.phase === "awaiting-capabilities";
      if (handshaking && now - connection.openedAtMs > this.#options.handshakeTimeoutMs) {
        connection.fail(protocolError("handshake-timeout"), CloseCodes.handshakeTimeout);
      }
    }
    for (const session of [...this.#sessions.values()]) {
      if (session.detachedAtMs !== null) {
        if (now - session.detachedAtMs > this.#options.resumeGraceMs) this.#end(session, "connection-lost");
        continue;
      }
      const connection = session.connection;
      if (connection === null || connection.phase !== "ready") continue;
      if (now - connection.lastHeardAtMs > this.#options.heartbeatTimeoutMs) {
        const silentMs = now - connection.lastHeardAtMs;
        connection.fail(protocolError("heartbeat-timeout", `silent for ${silentMs} ms`));
        this.#end(session, "heartbeat-timeout", CloseCodes.heartbeatTimeout);
        continue;
      }
      const beat = session.heartbeat;
      if (now >= beat.nextPingAtMs) {
        beat.pending = { id: beat.nextPingId++, sentAtMs: now };
        beat.nextPingAtMs = now + this.#options.heartbeatIntervalMs;
        connection.send("PING", { id: beat.pending.id, sentAtMs: now });
      }
    }
  }

  /** Closes every connection (code 1001) and stops the timers. */
  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopRevokeWatch();
    for (const connection of [...this.#connections]) {
      connection.send("BYE", { reason: "server shutting down" });
      connection.close(CloseCodes.serverShutdown, "server-shutdown");
    }
    return Promise.resolve();
  }

  #route(connection: Connection, message: Message): void {
    switch (connection.phase) {
      case "awaiting-connect":
        if (message.type !== "CONNECT") return this.#outOfOrder(connection, message.type, "expected CONNECT");
        return this.#connect(connection, message.payload);
      case "awaiting-capabilities":
        if (message.type === "BYE") return connection.close(CloseCodes.normal, "bye");
        if (message.type !== "REGISTER_CAPABILITIES") {
          return this.#outOfOrder(connection, message.type, "expected REGISTER_CAPABILITIES");
        }
        return this.#register(connection, message.payload);
      case "ready":
        return this.#deliver(connection, message);
    }
  }

  #outOfOrder(connection: Connection, type: MessageType, expected: string): void {
    connection.fail(
      protocolError("out-of-order", `${type} in state ${connection.phase}, ${expected}`, type),
      CloseCodes.outOfOrder,
    );
  }

  #connect(connection: Connection, hello: Extract<Message, { type: "CONNECT" }>["payload"]): void {
    if (hello.protocolVersion < MIN_PROTOCOL_VERSION || hello.protocolVersion > PROTOCOL_VERSION) {
      const detail =
        `client speaks ${hello.protocolVersion}, server supports ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`;
      return connection.fail(protocolError("version-unsupported", detail), CloseCodes.versionUnsupported);
    }
    const key = this.#options.keys.verify(hello.token);
    if (key === null) return connection.fail(protocolError("unauthorized"), CloseCodes.unauthorized);
    if (key.scope !== "device") {
      const detail = `a ${key.scope} key cannot connect a device`;
      return connection.fail(protocolError("wrong-scope", detail), CloseCodes.unauthorized);
    }
    connection.keyId = key.id;
    const resumable = hello.resume && this.#sessions.get(hello.resume.sessionId);
    if (resumable && resumable.keyId === key.id && resumable.device !== null) {
      return this.#resume(connection, resumable, hello.resume!.lastSeq);
    }
    const session = new Session(this.#options.newId?.() ?? crypto.randomUUID(), key.id);
    this.#sessions.set(session.id, session);
    session.connection = connection;
    connection.sessionId = session.id;
    connection.phase = "awaiting-capabilities";
    connection.send("ACK", this.#ack(session, false));
  }

  #ack(session: Session, resumed: boolean): PayloadInputOf<"ACK"> {
    const ack: PayloadInputOf<"ACK"> = {
      sessionId: session.id,
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.#options.heartbeatTimeoutMs,
      limits: this.#options.limits,
      resumed,
      lastSeq: session.inbox.lastSeq,
    };
    if (resumed && session.device) ack.deviceId = session.device.id;
    return ack;
  }

  #resume(connection: Connection, session: Session, peerLastSeq: number): void {
    const previous = session.connection;
    if (previous !== null && previous !== connection) {
      previous.sessionId = null;
      previous.fail(
        protocolError("session-replaced", "the device resumed on a new socket"),
        CloseCodes.sessionReplaced,
      );
    }
    const device = session.device!;
    session.connection = connection;
    session.detachedAtMs = null;
    connection.sessionId = session.id;
    connection.phase = "ready";
    connection.send("ACK", this.#ack(session, true));
    connection.send("READY", { deviceId: device.id, name: device.name });
    for (const pending of session.outbox.replayAfter(peerLastSeq)) {
      connection.send(pending.type, pending.payload as never);
    }
    this.#markOnline(session, device);
    this.#log.info("device resumed", { deviceId: device.id, sessionId: session.id });
  }

  #register(connection: Connection, capabilities: Capabilities): void {
    const session = this.#sessions.get(connection.sessionId!)!;
    const id = deviceIdFor(session.keyId, capabilities.name);
    let record = this.#devices.get(id);
    const stale = record?.sessionId ? this.#sessions.get(record.sessionId) : undefined;
    if (stale !== undefined && stale !== session) {
      this.#end(stale, "session-replaced", CloseCodes.sessionReplaced);
    }
    const now = this.#options.clock.now();
    if (record === undefined) {
      record = {
        id,
        name: capabilities.name,
        keyId: session.keyId,
        capabilities,
        state: "ready",
        busy: false,
        rttMs: null,
        lastSeen: now,
        sessionId: session.id,
      };
      this.#devices.set(id, record);
    }
    record.capabilities = capabilities;
    session.device = record;
    connection.phase = "ready";
    connection.send("READY", { deviceId: id, name: capabilities.name });
    this.#markOnline(session, record);
    this.#log.info("device ready", { deviceId: id, name: capabilities.name });
  }

  #markOnline(session: Session, record: DeviceRecord): void {
    const now = this.#options.clock.now();
    record.sessionId = session.id;
    record.state = record.busy ? "busy" : "ready";
    record.lastSeen = now;
    session.heartbeat.nextPingAtMs = now;
    session.heartbeat.pending = null;
    this.#emit((listener) => listener.deviceReady?.(viewOf(record)));
  }

  #deliver(connection: Connection, message: Message): void {
    const session = this.#sessions.get(connection.sessionId ?? "");
    const device = session?.device;
    if (session === undefined || device == null) return;
    const now = this.#options.clock.now();
    device.lastSeen = now;
    if (!maySend(message.type, "device")) {
      return connection.recordError(
        protocolError("wrong-direction", `a device may not send ${message.type}`, message.type),
      );
    }
    switch (message.type) {
      case "CONNECT":
      case "REGISTER_CAPABILITIES":
        return this.#outOfOrder(connection, message.type, "the handshake is over");
      case "PONG": {
        const probe = session.probes.get(message.payload.id);
        if (probe !== undefined) {
          session.probes.delete(message.payload.id);
          device.rttMs = performance.now() - probe.startedAt;
          return probe.resolve(device.rttMs);
        }
        const pending = session.heartbeat.pending;
        if (pending !== null && pending.id === message.payload.id) {
          device.rttMs = now - pending.sentAtMs;
          session.heartbeat.pending = null;
        }
        return;
      }
      case "SEQ_ACK":
        return session.outbox.acknowledge(message.payload.seq);
      case "BYE":
        return this.#end(session, "bye", CloseCodes.normal);
    }
    if (RELIABLE_TYPES.has(message.type)) {
      const fresh = session.inbox.accept((message.payload as { seq: number }).seq);
      this.#ackSoon(session);
      if (!fresh) return;
    }
    this.#emit((listener) => listener.message?.(device.id, message));
  }

  /**
   * Acknowledges after the current turn, cumulatively: replies that the message triggers (a next
   * EXECUTE_TASK, say) go out first. An ACK written first would leave unacknowledged bytes in flight,
   * and Nagle's algorithm would then hold the reply until the peer's delayed ACK, about 40 ms.
   */
  #ackSoon(session: Session): void {
    if (session.ackTimer !== undefined) return;
    session.ackTimer = setTimeout(() => {
      session.ackTimer = undefined;
      if (session.connection?.phase === "ready") {
        session.connection.send("SEQ_ACK", { seq: session.inbox.lastSeq });
      }
    }, 0);
  }

  #detach(connection: Connection, code: number, reason: string): void {
    this.#connections.delete(connection);
    const session = connection.sessionId ? this.#sessions.get(connection.sessionId) : undefined;
    if (session === undefined || session.connection !== connection) return;
    session.connection = null;
    if (session.device === null) {
      this.#sessions.delete(session.id);
      return;
    }
    if (code >= 4000 && code < 4100) return this.#end(session, reason);
    session.detachedAtMs = this.#options.clock.now();
    session.device.state = "connecting";
    this.#log.info("device socket lost", { deviceId: session.device.id, code, reason });
  }

  #end(session: Session, reason: string, closeCode?: number): void {
    this.#sessions.delete(session.id);
    clearTimeout(session.ackTimer);
    for (const probe of session.probes.values()) probe.resolve(null);
    session.probes.clear();
    const connection = session.connection;
    session.connection = null;
    if (connection !== null && closeCode !== undefined) connection.close(closeCode, reason);
    const record = session.device;
    if (record === null || record.sessionId !== session.id) return;
    record.sessionId = null;
    record.state = "offline";
    record.busy = false;
    this.#log.info("device offline", { deviceId: record.id, reason });
    this.#emit((listener) => listener.deviceOffline?.(viewOf(record), reason));
  }

  #revoke(keyId: string): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.keyId !== keyId) continue;
      session.connection?.fail(protocolError("key-revoked"));
      this.#end(session, "key-revoked", CloseCodes.keyRevoked);
    }
    for (const connection of this.#connections) {
      if (connection.keyId === keyId) connection.fail(protocolError("key-revoked"), CloseCodes.keyRevoked);
    }
  }

  #sessionOf(deviceId: string): Session | undefined {
    const sessionId = this.#devices.get(deviceId)?.sessionId;
    return sessionId ? this.#sessions.get(sessionId) : undefined;
  }

  #emit(call: (listener: GatewayListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch (error) {
        this.#log.warn("gateway listener failed", { error: String(error) });
      }
    }
  }
}
