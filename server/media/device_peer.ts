/**
 * One device's werift peer connection. The server offers (a `frames` data channel and a receive-only
 * video transceiver), signalling goes over the control path (RTC_OFFER / RTC_ANSWER / RTC_ICE), still
 * frames arrive chunked on the channel, and the video track's RTP is counted and handed to viewers.
 * A peer that does not connect within `connectTimeoutMs` is `failed` (frames keep to STREAM_FRAME); one
 * that drops after connecting restarts ICE with a new offer, a few times.
 */
import { Buffer } from "node:buffer";
import type { MediaStreamTrack, RTCDataChannel, RtpPacket } from "werift";
import { RTCPeerConnection } from "werift";
import type { Timers } from "../../shared/clock.ts";
import { Emitter } from "../../shared/emitter.ts";
import { FrameReassembler } from "../../shared/media/frame_chunks.ts";
import type { PayloadOf, StreamFrame } from "../../shared/protocol/mod.ts";
import type { PeerConfig } from "./peer_config.ts";
import type { PeerState } from "../../shared/api_views.ts";

/** Where a device peer stands. */
export type { PeerState };

/** What a device peer reports. */
export type DevicePeerEvents = {
  state: [state: PeerState];
  frame: [frame: StreamFrame, byteLength: number];
  /** A chunk or frame was dropped on the data channel. */
  dropped: [reason: string];
  /** One RTP packet of the device's video track. */
  rtp: [packet: RtpPacket];
};

/** Settings and dependencies of a device peer. */
export interface DevicePeerOptions {
  deviceId: string;
  config: PeerConfig;
  clock: Timers;
  /** Sends a signalling message to the device on the control path; false when it cannot. */
  signal(type: "RTC_OFFER" | "RTC_ICE", payload: Record<string, unknown>): boolean;
  /** Time to connect before the peer counts as failed (default 10 s). */
  connectTimeoutMs?: number;
  /** Largest frame accepted on the channel. */
  maxFrameBytes: number;
  /** ICE restarts after a drop before the peer gives up (default 3). */
  maxRestarts?: number;
  /** How long a `disconnected` peer waits to recover by itself before restarting ICE (default 2 s). */
  disconnectGraceMs?: number;
}

/** A device's peer connection on the server. */
export class DevicePeer {
  readonly events = new Emitter<DevicePeerEvents>();
  readonly #options: DevicePeerOptions;
  readonly #pc: RTCPeerConnection;
  readonly #reassembler: FrameReassembler;
  #channel: RTCDataChannel | null = null;
  #state: PeerState = "connecting";
  #connectTimer: unknown;
  #graceTimer: unknown;
  #restarts = 0;
  #everConnected = false;
  #track: MediaStreamTrack | null = null;
  /** RTP packets and bytes of the video track so far. */
  readonly video = { packets: 0, bytes: 0 };

  constructor(options: DevicePeerOptions) {
    this.#options = options;
    this.#reassembler = new FrameReassembler({ maxFrameBytes: options.maxFrameBytes });
    this.#pc = new RTCPeerConnection(options.config);
    this.#pc.onIceCandidate.subscribe((candidate) => {
      if (candidate === undefined || this.#state === "closed") return;
      const init = candidate.toJSON();
      if (!init.candidate) return;
      options.signal("RTC_ICE", {
        candidate: init.candidate,
        sdpMid: init.sdpMid ?? null,
        sdpMLineIndex: init.sdpMLineIndex ?? null,
      });
    });
    this.#pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    this.#pc.onTrack.subscribe((track) => {
      if (track.kind !== "video") return;
      this.#track = track;
      track.onReceiveRtp.subscribe((packet) => {
        this.video.packets++;
        this.video.bytes += packet.payload.byteLength;
        this.events.emit("rtp", packet);
      });
    });
  }

  /** Where the peer stands. */
  get state(): PeerState {
    return this.#state;
  }

  /** Whether still frames can travel on the `frames` channel now. */
  get framesOpen(): boolean {
    return this.#channel?.readyState === "open";
  }

  /** Whether the device sends a video track. */
  get hasVideo(): boolean {
    return this.#track !== null;
  }

  /** Creates the channel and the video transceiver, and sends the first offer. */
  async start(): Promise<void> {
    this.#pc.addTransceiver("video", { direction: "recvonly" });
    const channel = this.#pc.createDataChannel("frames", { ordered: true });
    this.#channel = channel;
    channel.onMessage.subscribe((data) => this.#onChunk(data));
    this.#armConnectTimer();
    await this.#offer();
  }

  /** RTC_ANSWER from the device. */
  async handleAnswer(answer: PayloadOf<"RTC_ANSWER">): Promise<void> {
    if (this.#state === "closed" || this.#pc.signalingState !== "have-local-offer") return;
    await this.#pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  /** RTC_ICE from the device. */
  async handleIce(ice: PayloadOf<"RTC_ICE">): Promise<void> {
    if (this.#state === "closed" || ice.candidate === "") return;
    await this.#pc.addIceCandidate({
      candidate: ice.candidate,
      sdpMid: ice.sdpMid ?? undefined,
      sdpMLineIndex: ice.sdpMLineIndex ?? undefined,
    });
  }

  /** Restarts ICE with a new offer (a network blip, or the device resumed its session on a new socket). */
  async restartIce(): Promise<void> {
    if (this.#state === "closed") return;
    if (this.#pc.signalingState !== "stable") return;
    this.#setState("connecting");
    this.#armConnectTimer();
    this.#pc.restartIce();
    await this.#offer();
  }

  /**
   * The device is back on a new socket (signalling is not reliable, so an offer may have been lost):
   * sends the pending offer again, or restarts ICE when the peer is not connected.
   */
  async renegotiate(): Promise<void> {
    if (this.#state === "closed") return;
    if (this.#pc.signalingState === "have-local-offer") {
      this.#armConnectTimer();
      this.#options.signal("RTC_OFFER", { sdp: this.#pc.localDescription!.sdp });
      return;
    }
    await this.restartIce();
  }

  /** Asks the device for a key frame (a viewer joined). */
  requestKeyframe(): void {
    const track = this.#track;
    if (track?.ssrc === undefined) return;
    const receiver = this.#pc.getReceivers().find((candidate) => candidate.track === track);
    void receiver?.sendRtcpPLI(track.ssrc).catch(() => {});
  }

  /** Tears the peer down. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#setState("closed");
    this.#options.clock.clearTimeout(this.#connectTimer);
    this.#options.clock.clearTimeout(this.#graceTimer);
    await this.#pc.close().catch(() => {});
  }

  async #offer(): Promise<void> {
    const offer = await this.#pc.createOffer();
    await this.#pc.setLocalDescription(offer);
    if (this.#state === "closed") return;
    this.#options.signal("RTC_OFFER", { sdp: this.#pc.localDescription!.sdp });
  }

  #armConnectTimer(): void {
    const clock = this.#options.clock;
    clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = clock.setTimeout(() => {
      if (this.#state === "connecting") this.#setState("failed");
    }, this.#options.connectTimeoutMs ?? 10_000);
  }

  #onConnectionState(state: string): void {
    if (this.#state === "closed") return;
    const clock = this.#options.clock;
    if (state === "connected") {
      this.#everConnected = true;
      this.#restarts = 0;
      clock.clearTimeout(this.#connectTimer);
      clock.clearTimeout(this.#graceTimer);
      this.#setState("connected");
      return;
    }
    if (state === "failed" && !this.#everConnected) {
      clock.clearTimeout(this.#connectTimer);
      this.#setState("failed");
      return;
    }
    if ((state === "disconnected" || state === "failed") && this.#everConnected) {
      // A blip: give ICE a moment to recover by itself, then restart it.
      clock.clearTimeout(this.#graceTimer);
      this.#graceTimer = clock.setTimeout(() => {
        if (this.#state === "closed" || this.#pc.connectionState === "connected") return;
        if (this.#restarts >= (this.#options.maxRestarts ?? 3)) return this.#setState("failed");
        this.#restarts++;
        void this.restartIce().catch(() => this.#setState("failed"));
      }, state === "failed" ? 0 : this.#options.disconnectGraceMs ?? 2000);
    }
  }

  #onChunk(data: string | Buffer): void {
    if (typeof data === "string") {
      return void this.events.emit("dropped", "text message on the frames channel");
    }
    const step = this.#reassembler.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (step.kind === "frame") this.events.emit("frame", step.frame, step.byteLength);
    else if (step.kind === "dropped") this.events.emit("dropped", step.reason);
  }

  #setState(state: PeerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.events.emit("state", state);
  }
}
