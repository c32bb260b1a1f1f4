/**
 * The Janus gateway: takes device transports, holds their connections and one ticker, and wires the
 * managers: `SessionManager` (handshake, resume, heartbeats), `DeviceRegistry` (who is known, ready or
 * offline, as events) and the `Router`, which hands each message a READY device sends to its one owner.
 */
import type { Timers } from "../../shared/clock.ts";
import type { Emitter } from "../../shared/emitter.ts";
import { type IdSource, randomIds } from "../../shared/ids.ts";
import {
  BatchingTransport,
  CloseCodes,
  type Limits,
  maySend,
  type Message,
  type MessageType,
  type PayloadInputOf,
  protocolError,
  RELIABLE_TYPES,
} from "../../shared/protocol/mod.ts";
import type { Transport } from "../../shared/transport/transport.ts";
import type { KeyVerifier } from "../auth/types.ts";
import type { Logger } from "../log.ts";
import { Connection, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { DeviceRegistry, viewOf } from "./registry.ts";
import { Router } from "./router.ts";
import { SessionManager } from "./session.ts";
import type { DeviceView, Gateway, GatewayEvents } from "./types.ts";

/** What the gateway logs to: the server's logger. */
export type GatewayLog = Pick<Logger, "info" | "warn">;

/** Gateway settings and dependencies. */
export interface GatewayOptions {
  keys: KeyVerifier;
  clock: Timers;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeGraceMs: number;
  handshakeTimeoutMs: number;
  limits: Limits;
  /** Protocol errors within `errorWindowMs` that close a connection (default 10 in 60 s). */
  maxErrors?: number;
  errorWindowMs?: number;
  /** Transport buffer above which STREAM_FRAMEs are dropped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Unacknowledged reliable messages a session may hold before `send` refuses more (default 4096). */
  maxUnacked?: number;
  /** How often timers are checked; default a quarter of the heartbeat interval, at most 1 s. */
  tickMs?: number;
  /** Session ids; default random UUIDs. */
  newId?: IdSource;
  log?: GatewayLog;
  /** Devices known from an earlier run (the store), listed offline until they reconnect. */
  known?: readonly DeviceView[];
  /** High-resolution time for `ping` (default `performance.now`). */
  preciseNow?: () => number;
}

const silent: GatewayLog = { info() {}, warn() {} };

/** The device gateway. */
export class DeviceGateway implements Gateway {
  readonly router = new Router();
  readonly registry: DeviceRegistry;
  readonly #options: GatewayOptions;
  readonly #connectionOptions: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  readonly #connections = new Set<Connection>();
  readonly #sessions: SessionManager;
  readonly #log: GatewayLog;
  readonly #stopRevokeWatch: () => void;
  readonly #ticker: unknown;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#log = options.log ?? silent;
    this.registry = new DeviceRegistry({
      clock: options.clock,
      known: options.known,
      onListenerError: (error) => this.#log.warn("gateway listener failed", { error: String(error) }),
    });
    this.#sessions = new SessionManager({
      ...options,
      timers: options.clock,
      newId: options.newId ?? randomIds,
      registry: this.registry,
      log: this.#log,
    });
    this.#connectionOptions = {
      clock: options.clock,
      limits: options.limits,
      maxErrors: options.maxErrors ?? 10,
      errorWindowMs: options.errorWindowMs ?? 60_000,
    };
    this.#handler = {
      message: (connection, message) => this.#receive(connection, message),
      closed: (connection, code, reason) => {
        this.#connections.delete(connection);
        this.#sessions.handleClosed(connection, code, reason);
      },
    };
    this.#stopRevokeWatch = options.keys.onRevoke((keyId) => this.#revoke(keyId));
    const tickMs = options.tickMs ?? Math.min(1000, Math.max(5, Math.floor(options.heartbeatIntervalMs / 4)));
    this.#ticker = options.clock.setInterval(() => this.tick(), tickMs);
  }

  /** Device arrivals, losses and RTT updates. */
  get events(): Emitter<GatewayEvents> {
    return this.registry.events;
  }

  /** Takes over a freshly connected device transport. */
  accept(transport: Transport): void {
    // What a turn writes to a device leaves as one message (protocol version 2).
    const batched = new BatchingTransport(transport);
    this.#connections.add(new Connection(batched, this.#connectionOptions, this.#handler));
  }

  send<T extends MessageType>(deviceId: string, type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean {
    const session = this.#sessions.ofDevice(deviceId);
    if (session === undefined) return false;
    const channel = session.channel;
    if (RELIABLE_TYPES.has(type)) {
      if (channel.pendingCount >= (this.#options.maxUnacked ?? 4096)) return false;
      return channel.send(type, payload);
    }
    if (type === "STREAM_FRAME" && channel.bufferedAmount > (this.#options.maxBufferedBytes ?? 8 << 20)) {
      return false;
    }
    return channel.write(type, payload as PayloadInputOf<T>);
  }

  ping(deviceId: string, timeoutMs = this.#options.heartbeatTimeoutMs): Promise<number | null> {
    return this.#sessions.ping(deviceId, timeoutMs);
  }

  bufferedBytes(deviceId: string): number {
    return this.#sessions.ofDevice(deviceId)?.channel.bufferedAmount ?? 0;
  }

  devices(): DeviceView[] {
    return this.registry.views();
  }

  forget(deviceId: string, reason: string): DeviceView | null {
    if (this.#sessions.ofDevice(deviceId) !== undefined) return null;
    const record = this.registry.forget(deviceId, reason);
    if (record !== null) this.#log.info("device forgotten", { deviceId, name: record.name, reason });
    return record && viewOf(record);
  }

  device(idOrName: string): DeviceView | undefined {
    const record = this.registry.find(idOrName);
    return record && viewOf(record);
  }

  /** Enforces the handshake deadline, then the sessions' grace windows and heartbeats. */
  tick(): void {
    const now = this.#options.clock.now();
    for (const connection of this.#connections) {
      const handshaking = connection.phase === "awaiting-connect" ||
        connection.phase === "awaiting-capabilities";
      if (handshaking && now - connection.openedAtMs > this.#options.handshakeTimeoutMs) {
        connection.fail(protocolError("handshake-timeout"), CloseCodes.handshakeTimeout);
      }
    }
    this.#sessions.handleTick(now);
  }

  /** Says BYE on every connection, closes them (1001), drops the sessions and stops the ticker. */
  close(): Promise<void> {
    this.#options.clock.clearInterval(this.#ticker);
    this.#stopRevokeWatch();
    for (const connection of [...this.#connections]) {
      connection.send("BYE", { reason: "server shutting down" });
      connection.close(CloseCodes.serverShutdown, "server-shutdown");
    }
    this.#sessions.dispose();
    return Promise.resolve();
  }

  #receive(connection: Connection, message: Message): void {
    switch (connection.phase) {
      case "awaiting-connect":
        if (message.type !== "CONNECT") return this.#outOfOrder(connection, message.type, "expected CONNECT");
        return this.#sessions.handleConnect(connection, message.payload);
      case "awaiting-capabilities":
        if (message.type === "BYE") return connection.close(CloseCodes.normal, "bye");
        if (message.type !== "REGISTER_CAPABILITIES") {
          return this.#outOfOrder(connection, message.type, "expected REGISTER_CAPABILITIES");
        }
        return this.#sessions.handleRegister(connection, message.payload);
      case "ready":
        if (message.type === "CONNECT" || message.type === "REGISTER_CAPABILITIES") {
          return this.#outOfOrder(connection, message.type, "the handshake is over");
        }
        if (!maySend(message.type, "device")) {
          const detail = `a device may not send ${message.type}`;
          return connection.recordError(protocolError("wrong-direction", detail, message.type));
        }
        return this.#deliver(connection, message);
    }
  }

  #deliver(connection: Connection, message: Message): void {
    const delivered = this.#sessions.handleMessage(connection, message);
    if (delivered === null) return;
    if (!this.router.route(delivered.deviceId, delivered.message)) {
      this.#log.warn("no owner for a device message", { deviceId: delivered.deviceId, type: message.type });
    }
  }

  #outOfOrder(connection: Connection, type: MessageType, expected: string): void {
    connection.fail(
      protocolError("out-of-order", `${type} in state ${connection.phase}, ${expected}`, type),
      CloseCodes.outOfOrder,
    );
  }

  #revoke(keyId: string): void {
    this.#sessions.revoke(keyId);
    for (const connection of this.#connections) {
      if (connection.keyId === keyId) connection.fail(protocolError("key-revoked"), CloseCodes.keyRevoked);
    }
  }
}
