/**
 * A device that speaks the wire protocol by hand, for tests: it sends exactly what a test says (even
 * out-of-order or broken frames) and records every decoded message the server sends back.
 */
import {
  decodeFrame,
  encodeMessage,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadInputOf,
  PROTOCOL_VERSION,
} from "../../shared/protocol/mod.ts";

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

/** A raw protocol device over a real WebSocket. */
export class RawDevice {
  readonly received: Message[] = [];
  readonly rawReceived: Uint8Array[] = [];
  closeCode: number | null = null;
  closeReason = "";
  /** Answer PINGs automatically (on by default). */
  autoPong = true;
  /** Acknowledge reliable messages automatically (on by default). */
  autoAck = true;
  #seq = 0;
  #waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        this.closeCode = event.code;
        this.closeReason = event.reason;
        this.#wake();
        resolve();
      });
    });
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      const bytes = new Uint8Array(event.data);
      this.rawReceived.push(bytes);
      const decoded = decodeFrame(bytes);
      if (decoded.ok) {
        const message = decoded.value;
        this.received.push(message);
        if (message.type === "PING" && this.autoPong) this.send("PONG", { id: message.payload.id });
        const seq = (message.payload as { seq?: number }).seq;
        if (this.autoAck && typeof seq === "number") this.#ackSoon(seq);
      }
      this.#wake();
    });
  }

  #ackSeq = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  /** Acknowledges cumulatively after this turn, as the real peers do. */
  #ackSoon(seq: number): void {
    this.#ackSeq = Math.max(this.#ackSeq, seq);
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.socket.readyState === WebSocket.OPEN) this.send("SEQ_ACK", { seq: this.#ackSeq });
    }, 0);
  }

  /** Opens a socket to `url` and waits until it is open. */
  static async open(url: string): Promise<RawDevice> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener(
        "error",
        (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`)),
        {
          once: true,
        },
      );
    });
    return new RawDevice(socket);
  }

  /** Encodes and sends a message now. */
  send<T extends MessageType>(type: T, payload: PayloadInputOf<T>): void {
    this.socket.send(encodeMessage(type, payload, Date.now()));
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
    this.socket.send(data);
  }

  /** Waits for the next message of `type` not yet consumed, removing it from `received`. */
  async next<T extends MessageType>(type: T, timeoutMs = 3000): Promise<MessageOf<T>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const index = this.received.findIndex((m) => m.type === type);
      if (index >= 0) return this.received.splice(index, 1)[0] as MessageOf<T>;
      if (this.closeCode !== null) {
        throw new Error(`socket closed (${this.closeCode}) before ${type} arrived`);
      }
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await this.#wait(deadline - Date.now());
    }
  }

  /** Waits until the socket closes; returns its close code. */
  async waitClosed(timeoutMs = 3000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
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
  ): Promise<{ ack: MessageOf<"ACK">; ready: MessageOf<"READY"> }> {
    const ack = await this.connect(token);
    this.send("REGISTER_CAPABILITIES", testCapabilities(name));
    return { ack, ready: await this.next("READY") };
  }

  /** Closes the socket and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.closeCode === null) {
      this.socket.close();
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
