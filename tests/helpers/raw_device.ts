/**
 * A device that speaks the wire protocol by hand, for tests: it sends exactly what a test says (even
 * out-of-order or broken frames) and records every decoded message the server sends back. It runs over
 * any transport: a real WebSocket (`open`) or one end of an in-memory pair (`over`).
 */
import {
  BatchingTransport,
  decodeFrames,
  DEFAULT_LIMITS,
  encodeMessage,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadInputOf,
  PROTOCOL_VERSION,
  RELIABLE_TYPES,
} from "../../shared/protocol/mod.ts";
import type { MemoryTransport } from "../../shared/transport/memory.ts";
import type { Transport } from "../../shared/transport/transport.ts";
import { webSocketTransport } from "../../shared/transport/websocket.ts";

/** Capabilities of a plain headless test device. */
export function testCapabilities(name: string): PayloadInputOf<"REGISTER_CAPABILITIES"> {
  return {
    name,
    os: { platform: "linux", version: "test", hostname: "test-host" },
    apps: ["Files"],
    screens: [],
    input: { mouse: false, keyboard: false },
    media: { capture: false, webrtc: false },
    tags: ["test"],
  };
}

/** A raw protocol device. */
export class RawDevice {
  readonly received: Message[] = [];
  readonly rawReceived: Uint8Array[] = [];
  closeCode: number | null = null;
  closeReason = "";
  /** Answer PINGs automatically (on by default). */
  autoPong = true;
  /** Acknowledge reliable messages automatically (on by default). */
  autoAck = true;
  /** Called after each decoded message is recorded in `received`. */
  onMessage: ((message: Message) => void) | null = null;
  /** Called for each WebSocket message in or out, with the frames it holds (for wire counts). */
  onWire: ((direction: "in" | "out", frames: number) => void) | null = null;
  #seq = 0;
  #ackSeq = 0;
  #ackPending = false;
  #waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(readonly transport: Transport, readonly sendText: (text: string) => void) {
    this.closed = transport.closed.then(({ code, reason }) => {
      this.closeCode = code;
      this.closeReason = reason;
      this.#wake();
    });
    void this.#read();
  }

  /**
   * Opens a real WebSocket to `url` and waits until it is open. With `batch`, what one turn sends leaves as
   * one message, as the real peers send (protocol version 2); without, each frame is its own message.
   */
  static async open(url: string, options: { batch?: boolean } = {}): Promise<RawDevice> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener(
        "error",
        (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`)),
        { once: true },
      );
    });
    const transport = webSocketTransport(socket);
    if (!options.batch) return new RawDevice(transport, (text) => socket.send(text));
    const batching = new BatchingTransport(transport);
    const device = new RawDevice(batching, (text) => socket.send(text));
    batching.onWrite = (frames) => device.onWire?.("out", frames);
    return device;
  }

  /** A device on one end of an in-memory pair (text frames are delivered to the peer as text). */
  static over(transport: MemoryTransport): RawDevice {
    return new RawDevice(transport, (text) => transport.peer?.deliver(text));
  }

  async #read(): Promise<void> {
    for await (const bytes of this.transport) {
      if (typeof bytes === "string") continue;
      this.rawReceived.push(bytes);
      let frames = 0;
      // A message holds one or more frames (protocol version 2).
      decodeFrames(bytes, DEFAULT_LIMITS, (_, decoded) => {
        frames++;
        if (decoded.ok) this.#take(decoded.value);
      }, null);
      this.onWire?.("in", frames);
      this.#wake();
    }
  }

  #take(message: Message): void {
    this.received.push(message);
    if (message.type === "PING" && this.autoPong) this.send("PONG", { id: message.payload.id });
    if (this.autoAck && RELIABLE_TYPES.has(message.type)) {
      this.#ackSoon((message.payload as { seq: number }).seq);
    }
    this.onMessage?.(message);
  }

  /** Acknowledges cumulatively after this turn (a microtask later), as the real peers do. */
  #ackSoon(seq: number): void {
    this.#ackSeq = Math.max(this.#ackSeq, seq);
    if (this.#ackPending) return;
    this.#ackPending = true;
    queueMicrotask(() => {
      this.#ackPending = false;
      if (this.transport.isOpen) this.send("SEQ_ACK", { seq: this.#ackSeq });
    });
  }

  /** Encodes and sends a message now. */
  send<T extends MessageType>(type: T, payload: PayloadInputOf<T>): void {
    this.transport.send(encodeMessage(type, payload, Date.now()));
    if (!(this.transport instanceof BatchingTransport)) this.onWire?.("out", 1);
  }

  /** Sends a reliable message with the next sequence number; returns that number. */
  sendReliable<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): number {
    const seq = ++this.#seq;
    this.send(type, { ...payload, seq } as PayloadInputOf<T>);
    return seq;
  }

  /** Sets the next sequence number to use (for replay tests). */
  set lastSentSeq(seq: number) {
    this.#seq = seq;
  }

  /** Sends raw bytes or text, bypassing the codec. */
  sendRaw(data: Uint8Array | string): void {
    if (typeof data === "string") this.sendText(data);
    else this.transport.send(data);
  }

  /** Waits for the next message of `type` not yet consumed, removing it from `received`. */
  async next<T extends MessageType>(type: T, timeoutMs = 3000): Promise<MessageOf<T>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const index = this.received.findIndex((m) => m.type === type);
      if (index >= 0) return this.received.splice(index, 1)[0] as MessageOf<T>;
      if (this.closeCode !== null) {
        throw new Error(`transport closed (${this.closeCode}) before ${type} arrived`);
      }
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await this.#wait(deadline - Date.now());
    }
  }

  /** Waits until the transport closes; returns its close code. */
  async waitClosed(timeoutMs = 3000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`transport still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.closeCode!;
  }

  /** CONNECT and expect ACK. */
  async connect(token: string, resume?: { sessionId: string; lastSeq: number }): Promise<MessageOf<"ACK">> {
    this.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token, clientVersion: "test/1", resume });
    return await this.next("ACK");
  }

  /** Full handshake; returns the ACK and READY. */
  async handshake(
    token: string,
    name: string,
    capabilities: Partial<PayloadInputOf<"REGISTER_CAPABILITIES">> = {},
  ): Promise<{ ack: MessageOf<"ACK">; ready: MessageOf<"READY"> }> {
    const ack = await this.connect(token);
    this.send("REGISTER_CAPABILITIES", { ...testCapabilities(name), ...capabilities });
    return { ack, ready: await this.next("READY") };
  }

  /** Closes the transport and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.closeCode === null) {
      this.transport.close();
      await this.closed;
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      const waiter = () => done();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}
