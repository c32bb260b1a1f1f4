/**
 * The Deno client's media path: a werift peer that answers the server's offer (RTC_OFFER / RTC_ANSWER /
 * RTC_ICE on the control path) and sends still frames, chunked, on the `frames` data channel the server
 * opens. Frames wait in one queue so that two never interleave on the ordered channel; the channel's
 * buffer is kept below a high-water mark (`bufferedAmountLow`). When the channel is not open, frames go
 * by STREAM_FRAME (the runtime decides per frame through `sendFrame`).
 */
import { Buffer } from "node:buffer";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import { type ChunkChannel, FrameSender } from "../shared/media/frame_chunks.ts";
import type { FrameMeta, Message, MessageType, PayloadInputOf } from "../shared/protocol/mod.ts";
import type { FrameChannel } from "./runtime.ts";

/** Settings of the client's peer. */
export interface ClientMediaOptions {
  /** Sends a signalling message to the server. */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void;
  /** Extra host addresses to offer (default `["127.0.0.1"]`, which werift leaves out otherwise). */
  iceAdditionalHostAddresses?: string[];
  /** Largest data channel message (default 64 KiB, werift's max-message-size). */
  chunkMessageBytes?: number;
  /** Buffered bytes above which sending waits for the buffer to drain (default 1 MiB). */
  highWaterBytes?: number;
  /** Where the path stands, for the status line. */
  onPath?: (path: "webrtc" | "wss") => void;
}

/** The device's werift peer. */
export class ClientMedia implements FrameChannel {
  readonly #options: ClientMediaOptions;
  #pc: RTCPeerConnection | null = null;
  #channel: RTCDataChannel | null = null;
  readonly #frames: FrameSender;
  #closed = false;

  constructor(options: ClientMediaOptions) {
    this.#options = options;
    this.#frames = new FrameSender(options.chunkMessageBytes, options.highWaterBytes);
  }

  /** Whether frames travel on the data channel now. */
  get path(): "webrtc" | "wss" {
    return this.#channel?.readyState === "open" ? "webrtc" : "wss";
  }

  /** Handles RTC_OFFER and RTC_ICE; false for any other message. */
  handle(message: Message): boolean {
    if (message.type === "RTC_OFFER") {
      void this.#answer(message.payload.sdp).catch(() => this.reset());
      return true;
    }
    if (message.type === "RTC_ICE") {
      const { candidate, sdpMid, sdpMLineIndex } = message.payload;
      if (this.#pc !== null && candidate !== "") {
        void this.#pc.addIceCandidate({
          candidate,
          sdpMid: sdpMid ?? undefined,
          sdpMLineIndex: sdpMLineIndex ?? undefined,
        }).catch(() => {});
      }
      return true;
    }
    return false;
  }

  sendFrame(meta: FrameMeta, image: Uint8Array): boolean {
    const channel = this.#channel;
    if (channel === null || channel.readyState !== "open") return false;
    this.#frames.send(this.#sink(channel), meta, image);
    return true;
  }

  /** Drops the peer (a new session began: the server makes a new one). */
  reset(): void {
    const pc = this.#pc;
    this.#pc = null;
    this.#channel = null;
    this.#options.onPath?.("wss");
    void pc?.close().catch(() => {});
  }

  /** Closes the peer for good. */
  async close(): Promise<void> {
    this.#closed = true;
    const pc = this.#pc;
    this.#pc = null;
    this.#channel = null;
    await pc?.close().catch(() => {});
  }

  async #answer(sdp: string): Promise<void> {
    if (this.#closed) return;
    const pc = this.#pc ?? this.#createPeer();
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc !== this.#pc) return;
    this.#options.send("RTC_ANSWER", { sdp: pc.localDescription!.sdp });
  }

  #createPeer(): RTCPeerConnection {
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceAdditionalHostAddresses: this.#options.iceAdditionalHostAddresses ?? ["127.0.0.1"],
      bundlePolicy: "max-bundle",
    });
    this.#pc = pc;
    pc.onIceCandidate.subscribe((candidate) => {
      if (candidate === undefined || pc !== this.#pc) return;
      const init = candidate.toJSON();
      if (!init.candidate) return;
      this.#options.send("RTC_ICE", {
        candidate: init.candidate,
        sdpMid: init.sdpMid ?? null,
        sdpMLineIndex: init.sdpMLineIndex ?? null,
      });
    });
    pc.onDataChannel.subscribe((channel) => {
      if (channel.label !== "frames" || pc !== this.#pc) return;
      this.#channel = channel;
      channel.bufferedAmountLowThreshold = 256 * 1024;
      const report = () => this.#options.onPath?.(this.path);
      channel.stateChanged.subscribe(report);
      report();
    });
    return pc;
  }

  #sink(channel: RTCDataChannel): ChunkChannel {
    return {
      send: (bytes) => channel.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      get bufferedAmount() {
        return channel.bufferedAmount;
      },
      get isOpen() {
        return channel.readyState === "open";
      },
      drained: () =>
        new Promise<void>((resolve) => {
          const done = () => {
            low.unSubscribe();
            state.unSubscribe();
            resolve();
          };
          const low = channel.bufferedAmountLow.subscribe(done);
          const state = channel.stateChanged.subscribe((next) => next !== "open" && done());
        }),
    };
  }
}
