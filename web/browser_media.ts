/// <reference lib="dom" />
/**
 * The browser device's WebRTC side, on the browser's own RTCPeerConnection: answers the server's offer
 * with the shared screen as the video track, takes the `frames` data channel the server opens, and sends
 * still frames on it, chunked like the Deno client's (`shared/media/frame_chunks.ts`).
 */
import { type ChunkChannel, FrameSender } from "../shared/media/frame_chunks.ts";
import type { FrameMeta, Message, MessageType, PayloadInputOf } from "../shared/protocol/mod.ts";
import type { FrameChannel } from "../client/runtime.ts";

/** What the browser media needs. */
export interface BrowserMediaOptions {
  /** Sends a signalling message to the server on the control path. */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void;
  /** The shared screen. */
  track: MediaStreamTrack;
  /** The peer's state and the frames path changed. */
  onChange?: (state: { peer: RTCPeerConnectionState | "none"; path: "webrtc" | "wss" }) => void;
}

/** The page's peer connection to the server. */
export class BrowserMedia implements FrameChannel {
  readonly #options: BrowserMediaOptions;
  #pc: RTCPeerConnection | null = null;
  #channel: RTCDataChannel | null = null;
  readonly #frames = new FrameSender();

  constructor(options: BrowserMediaOptions) {
    this.#options = options;
  }

  /** Whether frames travel on the data channel now. */
  get path(): "webrtc" | "wss" {
    return this.#channel?.readyState === "open" ? "webrtc" : "wss";
  }

  /** Handles RTC_OFFER and RTC_ICE; false for any other message. */
  handle(message: Message): boolean {
    if (message.type === "RTC_OFFER") {
      void this.#answer(message.payload.sdp).catch((error) => {
        console.warn("Cannot answer the server's offer:", error);
        this.reset();
      });
      return true;
    }
    if (message.type === "RTC_ICE") {
      const { candidate, sdpMid, sdpMLineIndex } = message.payload;
      if (this.#pc !== null && candidate !== "") {
        this.#pc.addIceCandidate({ candidate, sdpMid: sdpMid ?? null, sdpMLineIndex: sdpMLineIndex ?? null })
          .catch(() => {});
      }
      return true;
    }
    return false;
  }

  sendFrame(meta: FrameMeta, image: Uint8Array): boolean {
    const channel = this.#channel;
    if (channel === null || channel.readyState !== "open") return false;
    this.#frames.send(sinkOf(channel), meta, image);
    return true;
  }

  /** Drops the peer (a new session: the server offers again). */
  reset(): void {
    const pc = this.#pc;
    this.#pc = null;
    this.#channel = null;
    pc?.close();
    this.#report();
  }

  async #answer(sdp: string): Promise<void> {
    const pc = this.#pc ?? this.#createPeer();
    const fresh = pc.remoteDescription === null;
    await pc.setRemoteDescription({ type: "offer", sdp });
    if (fresh) {
      // The server's offer has a receive-only video m-line: our screen goes out on it.
      const video = pc.getTransceivers().find((transceiver) => transceiver.receiver.track.kind === "video");
      if (video !== undefined) {
        video.direction = "sendonly";
        await video.sender.replaceTrack(this.#options.track);
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc !== this.#pc) return;
    this.#options.send("RTC_ANSWER", { sdp: pc.localDescription!.sdp });
  }

  #createPeer(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    this.#pc = pc;
    pc.onicecandidate = (event) => {
      if (pc !== this.#pc || event.candidate === null || event.candidate.candidate === "") return;
      this.#options.send("RTC_ICE", {
        candidate: event.candidate.candidate,
        sdpMid: event.candidate.sdpMid,
        sdpMLineIndex: event.candidate.sdpMLineIndex,
      });
    };
    pc.onconnectionstatechange = () => this.#report();
    pc.ondatachannel = (event) => {
      if (event.channel.label !== "frames" || pc !== this.#pc) return;
      const channel = event.channel;
      channel.binaryType = "arraybuffer";
      channel.bufferedAmountLowThreshold = 256 * 1024;
      this.#channel = channel;
      channel.onopen = () => this.#report();
      channel.onclose = () => this.#report();
      this.#report();
    };
    return pc;
  }

  #report(): void {
    this.#options.onChange?.({ peer: this.#pc?.connectionState ?? "none", path: this.path });
  }
}

function sinkOf(channel: RTCDataChannel): ChunkChannel {
  return {
    send: (bytes) => channel.send(bytes as Uint8Array<ArrayBuffer>),
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    get isOpen() {
      return channel.readyState === "open";
    },
    drained: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          channel.removeEventListener("bufferedamountlow", done);
          channel.removeEventListener("close", done);
          resolve();
        };
        channel.addEventListener("bufferedamountlow", done);
        channel.addEventListener("close", done);
      }),
  };
}
