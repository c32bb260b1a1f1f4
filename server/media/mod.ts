/**
 * The media path on the server: one werift peer per device that says `media.webrtc`, negotiated over the
 * control path; still frames from its `frames` channel go to the action dispatcher's one frame input (as
 * STREAM_FRAMEs do), which also feeds the latest-frame store; video RTP is relayed to viewer peers. Peers
 * are torn down with their device and restart ICE when the device resumes on a new socket. This folder is
 * the only server code that imports werift.
 */
import type { Timers } from "../../shared/clock.ts";
import type { IdSource } from "../../shared/ids.ts";
import { type PayloadOf, protocolError, type StreamFrame } from "../../shared/protocol/mod.ts";
import type { FrameArrivalPath } from "../gateway/action_dispatcher.ts";
import type { DeviceView, Gateway } from "../gateway/types.ts";
import type { Logger } from "../log.ts";
import { DevicePeer } from "./device_peer.ts";
import type { MediaView } from "../../shared/api_views.ts";
import type { FrameStore } from "./frame_store.ts";
import { type IceSettings, peerConfig } from "./peer_config.ts";
import { ViewerPeer } from "./viewer_relay.ts";

export { FrameStore } from "./frame_store.ts";
export type { FramePath, GetFrameOptions, StoredFrame } from "./frame_store.ts";
export type { IceSettings } from "./peer_config.ts";
export type { PeerState } from "./device_peer.ts";

/** `media` of a device in `GET /api/devices`. */
export type { MediaView };

/** Settings of the media service. */
export interface MediaOptions extends IceSettings {
  /** Time for a device peer to connect before frames keep to STREAM_FRAME (default 10 s). */
  connectTimeoutMs?: number;
  /** Viewers per device at most (default 8). */
  maxViewersPerDevice?: number;
}

/** What the media service is built from. */
export interface MediaDeps {
  gateway: Gateway;
  clock: Timers;
  frames: FrameStore;
  /** The action dispatcher's frame input. */
  frameArrived(deviceId: string, frame: StreamFrame, path: FrameArrivalPath): void;
  newId: IdSource;
  maxFrameBytes: number;
  log: Pick<Logger, "info" | "warn">;
  options?: MediaOptions;
}

/** Why a viewer cannot be opened. */
export class ViewerError extends Error {
  constructor(
    readonly code: "device-offline" | "device-busy" | "no-video" | "invalid-body",
    message: string,
  ) {
    super(message);
  }
}

/** Device peers, their frames and the viewers of their video. */
export class MediaService {
  readonly #deps: MediaDeps;
  readonly #peers = new Map<string, DevicePeer>();
  readonly #viewers = new Map<string, Map<string, ViewerPeer>>();
  readonly #unsubscribe: Array<() => void>;

  constructor(deps: MediaDeps) {
    this.#deps = deps;
    const { gateway } = deps;
    this.#unsubscribe = [
      gateway.router.own(["RTC_ANSWER"], (deviceId, message) => this.#onAnswer(deviceId, message.payload)),
      gateway.router.own(["RTC_ICE"], (deviceId, message) => this.#onIce(deviceId, message.payload)),
      gateway.router.own(["RTC_OFFER"], (deviceId) => {
        gateway.send(
          deviceId,
          "ERROR",
          protocolError("out-of-order", "the server makes the offer", "RTC_OFFER"),
        );
      }),
      gateway.events.on("device-ready", (device) => this.#onReady(device)),
      gateway.events.on("device-offline", (device) => void this.#teardown(device.id)),
    ];
  }

  /** The device's peer, if it has one. */
  peer(deviceId: string): DevicePeer | undefined {
    return this.#peers.get(deviceId);
  }

  /** Whether the device's `frames` channel is open. */
  framesOpen(deviceId: string): boolean {
    return this.#peers.get(deviceId)?.framesOpen ?? false;
  }

  /** The `media` field of a device view. */
  view(device: DeviceView): MediaView {
    const online = device.state !== "offline";
    const peer = online ? this.#peers.get(device.id) : undefined;
    const stats = this.#deps.frames.stats(device.id);
    const captures = device.capabilities.media.capture;
    const path = !online || !captures ? null : peer?.framesOpen ? "webrtc" : "wss";
    const viewers = this.#viewers.get(device.id)?.size ?? 0;
    return {
      path,
      ...stats,
      peer: peer?.state ?? null,
      video: peer?.hasVideo ? { packets: peer.video.packets, bytes: peer.video.bytes, viewers } : null,
    };
  }

  /**
   * Opens a viewer of a device's live video: `offerSdp` is the viewer's offer (receive-only video);
   * resolves with the viewer's id and the answer. Throws `ViewerError` when the device is unknown,
   * offline, or sends no video.
   */
  async openViewer(deviceId: string, offerSdp: string): Promise<{ viewerId: string; sdp: string }> {
    const peer = this.#peers.get(deviceId);
    if (peer === undefined || peer.state === "closed") {
      throw new ViewerError("device-offline", `Cannot reach device: it has no media peer: ${deviceId}`);
    }
    if (!peer.hasVideo) throw new ViewerError("no-video", `Cannot open viewer: the device sends no video`);
    let viewers = this.#viewers.get(deviceId);
    if (viewers === undefined) this.#viewers.set(deviceId, viewers = new Map());
    const max = this.#deps.options?.maxViewersPerDevice ?? 8;
    if (viewers.size >= max) {
      throw new ViewerError("device-busy", `Cannot start work: device is busy: ${max} viewers already watch`);
    }
    const viewerId = this.#deps.newId();
    const viewer = new ViewerPeer(
      viewerId,
      deviceId,
      this.#config(),
      () => this.#viewers.get(deviceId)?.delete(viewerId),
      () => this.#peers.get(deviceId)?.requestKeyframe(),
    );
    viewers.set(viewerId, viewer);
    try {
      const sdp = await viewer.answer(offerSdp, 3000, this.#deps.clock);
      peer.requestKeyframe();
      return { viewerId, sdp };
    } catch (error) {
      viewers.delete(viewerId);
      await viewer.close();
      throw new ViewerError(
        "invalid-body",
        `Cannot accept body: the offer was refused: ${(error as Error).message}`,
      );
    }
  }

  /** Closes one viewer; false when there is no such viewer. */
  async closeViewer(deviceId: string, viewerId: string): Promise<boolean> {
    const viewer = this.#viewers.get(deviceId)?.get(viewerId);
    if (viewer === undefined) return false;
    this.#viewers.get(deviceId)!.delete(viewerId);
    await viewer.close();
    return true;
  }

  /** Stops listening and closes every peer. */
  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await Promise.all([...this.#peers.keys()].map((deviceId) => this.#teardown(deviceId)));
  }

  #config() {
    return peerConfig(this.#deps.options ?? {});
  }

  #onReady(device: DeviceView): void {
    if (!device.capabilities.media.webrtc) return;
    const existing = this.#peers.get(device.id);
    if (existing !== undefined) {
      // The device resumed on a new socket: the path may have changed under the peer.
      if (existing.state !== "connected") void existing.renegotiate().catch(() => {});
      return;
    }
    const { gateway, clock, log } = this.#deps;
    const peer = new DevicePeer({
      deviceId: device.id,
      config: this.#config(),
      clock,
      signal: (type, payload) => gateway.send(device.id, type, payload as never),
      connectTimeoutMs: this.#deps.options?.connectTimeoutMs,
      maxFrameBytes: this.#deps.maxFrameBytes,
    });
    this.#peers.set(device.id, peer);
    peer.events.on("frame", (frame) => this.#deps.frameArrived(device.id, frame, "webrtc"));
    peer.events.on(
      "dropped",
      (reason) => log.warn("frame dropped on the data channel", { deviceId: device.id, reason }),
    );
    peer.events.on("state", (state) => log.info("media peer", { deviceId: device.id, state }));
    peer.events.on("rtp", (packet) => {
      const viewers = this.#viewers.get(device.id);
      if (viewers !== undefined) { for (const viewer of viewers.values()) viewer.relay(packet); }
    });
    peer.start().catch((error) => {
      log.warn("cannot start the media peer", { deviceId: device.id, error: String(error) });
      void this.#teardown(device.id);
    });
  }

  #onAnswer(deviceId: string, answer: PayloadOf<"RTC_ANSWER">): void {
    const peer = this.#peers.get(deviceId);
    if (peer === undefined) return this.#noPeer(deviceId, "RTC_ANSWER");
    peer.handleAnswer(answer).catch((error) => {
      this.#deps.gateway.send(
        deviceId,
        "ERROR",
        protocolError("schema-violation", `RTC_ANSWER refused: ${(error as Error).message}`, "RTC_ANSWER"),
      );
    });
  }

  #onIce(deviceId: string, ice: PayloadOf<"RTC_ICE">): void {
    const peer = this.#peers.get(deviceId);
    if (peer === undefined) return this.#noPeer(deviceId, "RTC_ICE");
    peer.handleIce(ice).catch((error) => {
      this.#deps.log.warn("ICE candidate refused", { deviceId, error: String(error) });
    });
  }

  #noPeer(deviceId: string, type: string): void {
    this.#deps.gateway.send(
      deviceId,
      "ERROR",
      protocolError("out-of-order", "no media peer for this device", type),
    );
  }

  async #teardown(deviceId: string): Promise<void> {
    const peer = this.#peers.get(deviceId);
    this.#peers.delete(deviceId);
    const viewers = this.#viewers.get(deviceId);
    this.#viewers.delete(deviceId);
    this.#deps.frames.forgetRate(deviceId);
    await Promise.all([peer?.close(), ...[...viewers?.values() ?? []].map((viewer) => viewer.close())]);
  }
}
