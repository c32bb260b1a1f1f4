/**
 * The device's side of the control path: connects, runs the handshake, answers heartbeats, delivers
 * reliable messages exactly once, and on a lost socket reconnects with backoff and resumes the session
 * so that nothing in flight is lost or doubled. Every message it writes after the handshake is paced to
 * the rate the server announced in ACK (queued, never dropped; SEQ_ACKs coalesced), and a reliable message
 * the server still refuses (`rate-limited`) is sent again, with those after it, once `retryAfterMs` passed.
 */
import type { Clock } from "../shared/clock.ts";
import {
  decodeFrame,
  encodeMessage,
  type ErrorCode,
  type Message,
  type MessageType,
  type PayloadInputOf,
  PROTOCOL_VERSION,
  type ProtocolError,
  RELIABLE_TYPES,
  ReliableInbox,
  ReliableOutbox,
} from "../shared/protocol/mod.ts";
import { backoffDelayMs, type BackoffOptions, DEFAULT_BACKOFF } from "./reconnect_policy.ts";
import { SendPacer } from "../shared/protocol/mod.ts";

/** A message waiting for its turn to be written. */
interface Outgoing {
  type: MessageType;
  payload: object;
}

/** Queued bytes as the artifact sender's backpressure sees them: binary payloads count, JSON ones a little. */
function sizeOfOutgoing(item: Outgoing): number {
  return item.payload instanceof Uint8Array ? item.payload.byteLength : 64;
}

/** Connection status, for the status line and logs. */
export type ConnectionStatus = "connecting" | "ready" | "reconnecting" | "stopped";

/** Errors from the server that end the client: retrying cannot help. */
const FATAL: ReadonlySet<ErrorCode> = new Set([
  "unauthorized",
  "wrong-scope",
  "version-unsupported",
  "key-revoked",
]);

/** Why the connection stopped for good. */
export interface StopReason {
  /** `fatal` for a refused key or version, `unreachable` when the first connection never succeeded. */
  kind: "fatal" | "unreachable" | "requested";
  code?: ErrorCode;
  message: string;
}

/** Settings and dependencies of a device connection. */
export interface DeviceConnectionOptions {
  url: string;
  key: string;
  clientVersion: string;
  /** Capabilities sent on every fresh session. */
  capabilities: () => Promise<PayloadInputOf<"REGISTER_CAPABILITIES">>;
  clock: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Attempts before giving up when the server was never reached (default 3). */
  maxInitialAttempts?: number;
  /** Opens a WebSocket; tests and TLS settings inject their own. */
  openSocket?: (url: string) => WebSocket;
  /** A server message after the handshake (reliable ones de-duplicated). */
  onMessage: (message: Message) => void;
  onStatus?: (status: ConnectionStatus, detail?: string) => void;
  /** A fresh session began (not a resume): work from the old session is gone. */
  onNewSession?: (deviceId: string) => void;
}

/** The device's control-path connection. */
export class DeviceConnection {
  readonly #options: DeviceConnectionOptions;
  #outbox = new ReliableOutbox();
  #inbox = new ReliableInbox();
  #socket: WebSocket | null = null;
  #ready = false;
  #sessionId: string | null = null;
  deviceId: string | null = null;
  #everReady = false;
  #freshSession = false;
  #attempt = 0;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #lastHeardMs = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimeoutMs = 30_000;
  readonly #pacer = new SendPacer<Outgoing>(sizeOfOutgoing);
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  /** A SEQ_ACK still waiting in the pacer: a newer one updates it instead of queuing another. */
  #queuedAck: Outgoing | null = null;
  /** Highest reliable seq written on the current socket. */
  #writtenThrough = 0;
  #resolveStopped!: (reason: StopReason) => void;
  #resolveReady!: () => void;
  /** Settles when the connection stops for good. */
  readonly stopped: Promise<StopReason>;
  /** Settles at the first READY. */
  readonly ready: Promise<void>;

  constructor(options: DeviceConnectionOptions) {
    this.#options = options;
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
  }

  /** Opens the first connection. */
  start(): void {
    this.#open();
  }

  /** Whether messages can be sent right now. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** Sends a message; reliable ones are numbered and kept until acknowledged, so they survive a reconnect. */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void {
    if (RELIABLE_TYPES.has(type)) {
      const stamped = this.#outbox.stamp(type, payload);
      if (this.#ready) this.#write(type, stamped);
      return;
    }
    if (this.#ready) this.#write(type, payload as PayloadInputOf<T>);
  }

  /** Bytes waiting to be sent (paced or in the socket), for senders of bulk data. */
  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + this.#pacer.queuedBytes;
  }

  /** Messages waiting for their turn under the server's rate limit. */
  get queuedMessages(): number {
    return this.#pacer.length;
  }

  /** Says BYE, closes and stops reconnecting. */
  stop(message = "client stopping"): void {
    if (this.#stopped) return;
    // The goodbye skips the queue: what still waits there is not sent on a socket that is closing anyway.
    if (this.#ready && this.#socket !== null) this.#writeNow(this.#socket, "BYE", { reason: message });
    this.#finish({ kind: "requested", message });
  }

  #open(): void {
    if (this.#stopped) return;
    this.#attempt++;
    this.#options.onStatus?.(this.#everReady ? "reconnecting" : "connecting", this.#options.url);
    let socket: WebSocket;
    try {
      socket = this.#options.openSocket?.(this.#options.url) ?? new WebSocket(this.#options.url);
    } catch (error) {
      return this.#lost(`cannot open ${this.#options.url}: ${(error as Error).message}`);
    }
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#resetPacing();
    socket.onopen = () => {
      this.#lastHeardMs = this.#options.clock.now();
      const resume = this.#sessionId
        ? { sessionId: this.#sessionId, lastSeq: this.#inbox.lastSeq }
        : undefined;
      this.#write("CONNECT", {
        protocolVersion: PROTOCOL_VERSION,
        token: this.#options.key,
        clientVersion: this.#options.clientVersion,
        resume,
      });
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket || !(event.data instanceof ArrayBuffer)) return;
      const decoded = decodeFrame(new Uint8Array(event.data));
      if (decoded.ok) this.#receive(decoded.value);
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#lost(`connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    };
  }

  #receive(message: Message): void {
    this.#lastHeardMs = this.#options.clock.now();
    switch (message.type) {
      case "ACK": {
        const ack = message.payload;
        this.#heartbeatTimeoutMs = ack.heartbeatTimeoutMs;
        this.#pacer.setRate(ack.limits.maxMessagesPerSecond, this.#options.clock.now());
        if (ack.resumed) {
          for (const pending of this.#outbox.replayAfter(ack.lastSeq)) {
            this.#write(pending.type, pending.payload as never);
          }
        } else {
          this.#outbox = new ReliableOutbox();
          this.#inbox = new ReliableInbox();
          this.#options.capabilities().then((caps) => this.#write("REGISTER_CAPABILITIES", caps));
        }
        this.#sessionId = ack.sessionId;
        this.#freshSession = !ack.resumed;
        return;
      }
      case "READY":
        return this.#becomeReady(message.payload.deviceId);
      case "PING":
        return this.#write("PONG", { id: message.payload.id });
      case "SEQ_ACK":
        return this.#outbox.acknowledge(message.payload.seq);
      case "ERROR":
        if (FATAL.has(message.payload.code)) {
          return this.#finish({
            kind: "fatal",
            code: message.payload.code,
            message: message.payload.message,
          });
        }
        if (message.payload.code === "rate-limited") return this.#refused(message.payload);
        if (message.payload.code === "unknown-session") this.#sessionId = null;
        break;
      case "BYE":
        return;
    }
    if (RELIABLE_TYPES.has(message.type)) {
      const fresh = this.#inbox.accept((message.payload as { seq: number }).seq);
      this.#ackSoon();
      if (!fresh) return;
    }
    this.#options.onMessage(message);
  }

  /**
   * Acknowledges cumulatively right after the next message this device writes (usually the reply the
   * acknowledged message asked for), or after 20 ms. An ACK written just before a reply leaves bytes
   * unacknowledged in flight, and Nagle's algorithm can then hold the reply for the server's delayed
   * ACK, about 40 ms (measured by `deno task bench`, action round trip).
   */
  #ackSoon(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => this.#flushAck(), 20);
  }

  #flushAck(): void {
    if (this.#ackTimer === undefined) return;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#write("SEQ_ACK", { seq: this.#inbox.lastSeq });
  }

  /**
   * The server refused a message over its rate limit. Nothing is written until `retryAfterMs` passed;
   * a refused reliable message (`ref` = its seq) is then written again, followed by every reliable message
   * written after it (the server discarded those), in order, ahead of what was still waiting.
   */
  #refused(error: ProtocolError): void {
    const now = this.#options.clock.now();
    this.#pacer.pauseUntil(now + (error.retryAfterMs ?? 1000));
    const seq = Number(error.ref);
    if (Number.isInteger(seq) && seq >= 1 && seq <= this.#writtenThrough) {
      const again = this.#outbox.replayAfter(seq - 1).filter((pending) =>
        pending.seq <= this.#writtenThrough
      );
      this.#pacer.pushFront(again.map((pending) => ({ type: pending.type, payload: pending.payload })));
      this.#writtenThrough = seq - 1;
    }
    this.#schedulePump(now);
  }

  #becomeReady(deviceId: string): void {
    const fresh = this.#freshSession;
    this.#freshSession = false;
    this.deviceId = deviceId;
    this.#ready = true;
    this.#attempt = 0;
    this.#everReady = true;
    this.#startWatchdog();
    if (fresh) this.#options.onNewSession?.(deviceId);
    this.#options.onStatus?.("ready", deviceId);
    this.#resolveReady();
  }

  #startWatchdog(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = setInterval(() => {
      if (this.#options.clock.now() - this.#lastHeardMs > this.#heartbeatTimeoutMs) {
        this.#socket?.close(4004, "no heartbeat from server");
        this.#lost("no heartbeat from the server");
      }
    }, Math.max(50, Math.floor(this.#heartbeatTimeoutMs / 4)));
  }

  #lost(detail: string): void {
    this.#ready = false;
    this.#socket = null;
    clearInterval(this.#watchdog);
    this.#resetPacing();
    if (this.#stopped) return;
    const maxInitial = this.#options.maxInitialAttempts ?? 3;
    if (!this.#everReady && this.#attempt >= maxInitial) {
      return this.#finish({ kind: "unreachable", message: `Cannot reach ${this.#options.url}: ${detail}` });
    }
    const delayMs = backoffDelayMs(
      this.#attempt,
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#options.random ?? Math.random,
    );
    this.#options.onStatus?.("reconnecting", `${detail}; retrying in ${delayMs} ms`);
    this.#retryTimer = setTimeout(() => this.#open(), delayMs);
  }

  /** Queues a message for the current socket behind the pacer; a queued SEQ_ACK is updated instead. */
  #write<T extends MessageType>(type: T, payload: PayloadInputOf<T>): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    if (type === "SEQ_ACK" && this.#queuedAck !== null) {
      this.#queuedAck.payload = payload as object;
      return;
    }
    const item: Outgoing = { type, payload: payload as object };
    if (type === "SEQ_ACK") this.#queuedAck = item;
    this.#pacer.push(item);
    this.#pump();
    if (type !== "SEQ_ACK") this.#flushAck();
  }

  /** Writes what the pacer lets go now, and arms a timer for the rest. */
  #pump(): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    const now = this.#options.clock.now();
    for (const item of this.#pacer.take(now)) {
      if (item === this.#queuedAck) this.#queuedAck = null;
      if (RELIABLE_TYPES.has(item.type)) {
        this.#writtenThrough = Math.max(this.#writtenThrough, (item.payload as { seq: number }).seq);
      }
      this.#writeNow(socket, item.type, item.payload as never);
    }
    this.#schedulePump(now);
  }

  #schedulePump(nowMs: number): void {
    if (this.#pumpTimer !== undefined) return;
    const waitMs = this.#pacer.waitMs(nowMs);
    if (waitMs === null) return;
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = undefined;
      this.#pump();
    }, waitMs);
  }

  #writeNow<T extends MessageType>(socket: WebSocket, type: T, payload: PayloadInputOf<T>): void {
    socket.send(encodeMessage(type, payload, this.#options.clock.now()));
  }

  /** A new socket (or none): nothing queued for the old one is sent, and no rate is known until ACK. */
  #resetPacing(): void {
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#pacer.clear();
    this.#pacer.setRate(null, this.#options.clock.now());
    this.#queuedAck = null;
    this.#writtenThrough = 0;
  }

  #finish(reason: StopReason): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ready = false;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#ackTimer);
    clearInterval(this.#watchdog);
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    this.#options.onStatus?.("stopped", reason.message);
    if (socket === null || socket.readyState === WebSocket.CLOSED) return this.#resolveStopped(reason);
    // Let the close handshake finish so a BYE sent just before reaches the server; give up after 1 s.
    const timer = setTimeout(() => this.#resolveStopped(reason), 1000);
    socket.addEventListener("close", () => {
      clearTimeout(timer);
      this.#resolveStopped(reason);
    });
    try {
      socket.close(1000, reason.kind);
    } catch {
      // Closing twice is harmless.
    }
  }
}
