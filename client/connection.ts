/**
 * The device's side of the control path: connects, runs the handshake, answers heartbeats, delivers
 * reliable messages exactly once, and on a lost transport reconnects with backoff and resumes the session
 * so that nothing in flight is lost or doubled. Reliable delivery, pacing to the rate the server
 * announced and resending after a `rate-limited` refusal are the shared `ReliableChannel`'s; this file
 * keeps the device's policy: when to reconnect, what ends the client, the watchdog on the server's silence.
 * It runs unchanged in Deno and in the browser (transports come from `connect`).
 */
import type { Timers } from "../shared/clock.ts";
import {
  BatchingTransport,
  CloseCodes,
  type Credential,
  decodeFrames,
  DEFAULT_LIMITS,
  DEFAULT_MAX_BATCH_BYTES,
  type ErrorCode,
  type FrameVisitor,
  type Message,
  type MessageType,
  type PayloadInputOf,
  PROTOCOL_VERSION,
  type ProtocolError,
  protocolError,
  ReliableChannel,
  Silence,
} from "../shared/protocol/mod.ts";
import type { Result } from "../shared/result.ts";
import { TlsError, type Transport } from "../shared/transport/transport.ts";
import { backoffDelayMs, type BackoffOptions, DEFAULT_BACKOFF } from "./reconnect_policy.ts";

/** Connection status, for the status line and logs. */
export type ConnectionStatus = "connecting" | "ready" | "reconnecting" | "stopped";

/** Errors from the server that end the client: retrying cannot help. */
const FATAL: ReadonlySet<ErrorCode> = new Set([
  "unauthorized",
  "wrong-scope",
  "version-unsupported",
  "key-revoked",
  "key-bound-to-other-device",
  "device-already-enrolled",
]);

/** Why the connection stopped for good. */
export interface StopReason {
  /**
   * `fatal` for a refused key or version, `unreachable` when the first connection never succeeded, `tls`
   * when the first connection's TLS was refused (a `TlsError`: retrying cannot help).
   */
  kind: "fatal" | "unreachable" | "requested" | "tls";
  code?: ErrorCode;
  message: string;
}

/** Settings and dependencies of a device connection. */
export interface DeviceConnectionOptions {
  url: string;
  /** The key CONNECT presents; after an enrollment, the minted key replaces it. */
  key: string;
  clientVersion: string;
  /** Capabilities sent on every fresh session. */
  capabilities: () => Promise<PayloadInputOf<"REGISTER_CAPABILITIES">>;
  /**
   * Opens a transport to `url` (rejects when it cannot connect; a `TlsError`, such as a refused certificate,
   * ends the client at once unless it has been ready before: then it is retried like any other loss).
   */
  connect: (url: string) => Promise<Transport>;
  clock: Timers;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Attempts before giving up when the server was never reached (default 3). */
  maxInitialAttempts?: number;
  /** A server message after the handshake (reliable ones de-duplicated). */
  onMessage: (message: Message) => void;
  onStatus?: (status: ConnectionStatus, detail?: string) => void;
  /** A fresh session began (not a resume): work from the old session is gone. */
  onNewSession?: (deviceId: string) => void;
  /** The server minted this device its own key (it joined with an enrollment key): store it. */
  onCredential?: (credential: Credential) => void;
}

/** The device's control-path connection. */
export class DeviceConnection {
  readonly #options: DeviceConnectionOptions;
  readonly #channel: ReliableChannel;
  #transport: Transport | null = null;
  #key: string;
  /** The server refused this client because another is connected as the same device: keep trying. */
  #refusedAsDuplicate = false;
  #ready = false;
  /** The server acknowledged CONNECT on the current transport (READY may still be on its way). */
  #acknowledged = false;
  #sessionId: string | null = null;
  deviceId: string | null = null;
  #everReady = false;
  #freshSession = false;
  #attempt = 0;
  #stopped = false;
  #retryTimer: unknown;
  #watchdog: unknown;
  #silence: Silence;
  #heartbeatTimeoutMs = 30_000;
  readonly #stoppedResolvers = Promise.withResolvers<StopReason>();
  readonly #readyResolvers = Promise.withResolvers<void>();
  /** Settles when the connection stops for good. */
  readonly stopped: Promise<StopReason> = this.#stoppedResolvers.promise;
  /** Settles at the first READY. */
  readonly ready: Promise<void> = this.#readyResolvers.promise;

  constructor(options: DeviceConnectionOptions) {
    this.#options = options;
    this.#key = options.key;
    this.#channel = new ReliableChannel({ timers: options.clock, ackDelayMs: 20, paced: true });
    this.#silence = new Silence(options.clock.now());
  }

  /** Opens the first connection. */
  start(): void {
    void this.#open();
  }

  /** Whether messages can be sent right now. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** Sends a message; reliable ones are numbered and kept until acknowledged, so they survive a reconnect. */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void {
    this.#channel.send(type, payload);
  }

  /** Bytes waiting to be sent (paced or in the transport), for senders of bulk data. */
  get bufferedAmount(): number {
    return this.#channel.bufferedAmount;
  }

  /** Messages waiting for their turn under the server's rate limit. */
  get queuedMessages(): number {
    return this.#channel.queuedMessages;
  }

  /** Says BYE, closes and stops reconnecting. */
  stop(message = "client stopping"): void {
    if (this.#stopped) return;
    // The goodbye skips the queue: what still waits there is not sent on a transport that is closing anyway.
    // Also between ACK and READY: the server may already count the device ready while READY is in flight.
    if (this.#ready || this.#acknowledged) this.#channel.writeNow("BYE", { reason: message });
    void this.#finish({ kind: "requested", message });
  }

  async #open(): Promise<void> {
    if (this.#stopped) return;
    this.#attempt++;
    this.#options.onStatus?.(this.#everReady ? "reconnecting" : "connecting", this.#options.url);
    let transport: Transport;
    try {
      transport = await this.#options.connect(this.#options.url);
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof TlsError && !this.#everReady) {
        return void this.#finish({ kind: "tls", message });
      }
      return this.#lost(message);
    }
    if (this.#stopped) return transport.close(CloseCodes.normal, "requested");
    // What a turn writes leaves as one message (protocol version 2); CONNECT goes alone, so a server of
    // another version still reads it.
    transport = new BatchingTransport(transport);
    this.#transport = transport;
    this.#channel.attach(transport);
    // Until READY the server takes only the handshake (and, on a resume, the replay).
    this.#channel.hold();
    this.#silence.heard(this.#options.clock.now());
    const resume = this.#sessionId
      ? { sessionId: this.#sessionId, lastSeq: this.#channel.lastSeq }
      : undefined;
    this.#channel.write("CONNECT", {
      protocolVersion: PROTOCOL_VERSION,
      token: this.#key,
      clientVersion: this.#options.clientVersion,
      resume,
    });
    for await (const frame of transport) {
      if (transport !== this.#transport || typeof frame === "string") continue;
      decodeFrames(frame, DEFAULT_LIMITS, receiveFrame, this);
    }
    const { code, reason } = await transport.closed;
    if (transport === this.#transport) this.#lost(`connection closed (${code}${reason ? ` ${reason}` : ""})`);
  }

  /** A frame of a message from the server (`receiveFrame` calls it); broken ones are ignored. */
  receiveFrame(decoded: Result<Message, ProtocolError>): void {
    if (decoded.ok && !this.#stopped) this.#receive(decoded.value);
  }

  #receive(message: Message): void {
    this.#silence.heard(this.#options.clock.now());
    switch (message.type) {
      case "ACK": {
        const ack = message.payload;
        if (ack.protocolVersion !== PROTOCOL_VERSION) {
          const detail = `server agreed on ${ack.protocolVersion}, this client speaks ${PROTOCOL_VERSION}; ` +
            `update the ${ack.protocolVersion > PROTOCOL_VERSION ? "client" : "server"}`;
          const { code, message: text } = protocolError("version-unsupported", detail);
          void this.#finish({ kind: "fatal", code, message: text });
          return;
        }
        this.#acknowledged = true;
        this.#heartbeatTimeoutMs = ack.heartbeatTimeoutMs;
        const batching = this.#transport as BatchingTransport | null;
        if (batching !== null) {
          batching.maxBatchBytes = Math.min(DEFAULT_MAX_BATCH_BYTES, ack.limits.maxFrameBytes);
        }
        this.#channel.setRate(ack.limits.maxMessagesPerSecond);
        if (ack.resumed) this.#channel.replayAfter(ack.lastSeq);
        else {
          this.#channel.reset();
          this.#options.capabilities().then((caps) => this.#channel.write("REGISTER_CAPABILITIES", caps));
        }
        this.#sessionId = ack.sessionId;
        this.#freshSession = !ack.resumed;
        return;
      }
      case "READY": {
        const credential = message.payload.credential;
        if (credential !== undefined && credential.secret !== this.#key) {
          this.#key = credential.secret;
          this.#options.onCredential?.(credential);
        }
        return this.#becomeReady(message.payload.deviceId);
      }
      case "PING":
        this.#channel.write("PONG", { id: message.payload.id });
        return;
      case "ERROR":
        if (FATAL.has(message.payload.code)) {
          void this.#finish({ kind: "fatal", code: message.payload.code, message: message.payload.message });
          return;
        }
        if (message.payload.code === "rate-limited") return this.#channel.refused(message.payload);
        if (message.payload.code === "device-already-connected") {
          this.#refusedAsDuplicate = true;
          this.#options.onStatus?.("reconnecting", message.payload.message);
          return;
        }
        if (message.payload.code === "unknown-session") this.#sessionId = null;
        break;
      case "BYE":
        return;
    }
    if (this.#channel.receive(message) === "deliver") this.#options.onMessage(message);
  }

  #becomeReady(deviceId: string): void {
    const fresh = this.#freshSession;
    this.#freshSession = false;
    this.deviceId = deviceId;
    this.#ready = true;
    this.#attempt = 0;
    this.#everReady = true;
    this.#startWatchdog();
    this.#channel.release();
    if (fresh) this.#options.onNewSession?.(deviceId);
    this.#options.onStatus?.("ready", deviceId);
    this.#readyResolvers.resolve();
  }

  #startWatchdog(): void {
    const clock = this.#options.clock;
    clock.clearInterval(this.#watchdog);
    this.#watchdog = clock.setInterval(() => {
      if (this.#silence.silentMs(clock.now()) <= this.#heartbeatTimeoutMs) return;
      const transport = this.#transport;
      this.#lost("no heartbeat from the server");
      transport?.close(CloseCodes.heartbeatTimeout, "no heartbeat from server");
    }, Math.max(50, Math.floor(this.#heartbeatTimeoutMs / 4)));
  }

  #lost(lostDetail: string): void {
    const clock = this.#options.clock;
    this.#ready = false;
    this.#acknowledged = false;
    this.#transport = null;
    this.#channel.detach();
    clock.clearInterval(this.#watchdog);
    if (this.#stopped) return;
    const maxInitial = this.#options.maxInitialAttempts ?? 3;
    // A refusal as a duplicate came from a reachable server: wait for the other client to go, however long.
    const duplicate = this.#refusedAsDuplicate;
    this.#refusedAsDuplicate = false;
    const detail = duplicate ? "another client is connected as this device" : lostDetail;
    if (!this.#everReady && !duplicate && this.#attempt >= maxInitial) {
      void this.#finish({ kind: "unreachable", message: `Cannot reach ${this.#options.url}: ${detail}` });
      return;
    }
    const delayMs = backoffDelayMs(
      this.#attempt,
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#options.random ?? Math.random,
    );
    this.#options.onStatus?.("reconnecting", `${detail}; retrying in ${delayMs} ms`);
    this.#retryTimer = clock.setTimeout(() => void this.#open(), delayMs);
  }

  async #finish(reason: StopReason): Promise<void> {
    if (this.#stopped) return;
    const clock = this.#options.clock;
    this.#stopped = true;
    this.#ready = false;
    this.#acknowledged = false;
    clock.clearTimeout(this.#retryTimer);
    clock.clearInterval(this.#watchdog);
    this.#options.onStatus?.("stopped", reason.message);
    const transport = this.#transport;
    this.#transport = null;
    if (transport !== null && transport.isOpen) {
      // Let the close handshake finish so a BYE sent just before reaches the server (exiting with unread data
      // makes the kernel reset the connection, and the server may then lose the BYE); give up after 3 s.
      transport.close(CloseCodes.normal, reason.kind);
      let timer: unknown;
      await Promise.race([
        transport.closed,
        new Promise<void>((resolve) => timer = clock.setTimeout(resolve, 3000)),
      ]);
      clock.clearTimeout(timer);
    }
    this.#channel.close();
    this.#stoppedResolvers.resolve(reason);
  }
}

const receiveFrame: FrameVisitor<DeviceConnection> = (connection, decoded) =>
  connection.receiveFrame(decoded);
