/**
 * Live view: an operator's browser (or any WebRTC peer) opens a viewer peer on the server, which copies
 * the device's received video RTP into a send-only track. The viewer offers (a receive-only video
 * m-line, its ICE candidates gathered into the SDP), the server answers with its candidates in the
 * SDP: one HTTP round trip, the shape WHEP uses, so a dashboard page can call it as it is.
 */
import { Buffer } from "node:buffer";
import { MediaStreamTrack, RTCPeerConnection, type RtpPacket } from "werift";
import type { Timers } from "../../shared/clock.ts";
import type { PeerConfig } from "./peer_config.ts";

/** One viewer of one device. */
export class ViewerPeer {
  readonly #pc: RTCPeerConnection;
  readonly #track = new MediaStreamTrack({ kind: "video" });
  #closed = false;
  /** RTP packets relayed to this viewer. */
  packets = 0;

  constructor(
    readonly id: string,
    readonly deviceId: string,
    config: PeerConfig,
    onGone: () => void,
    /** The viewer needs a key frame (it connected, or it lost the picture): the device is asked for one. */
    readonly onKeyframeNeeded: () => void,
  ) {
    this.#pc = new RTCPeerConnection(config);
    this.#pc.connectionStateChange.subscribe((state) => {
      if (state === "connected") onKeyframeNeeded();
      if (state === "failed" || state === "closed") {
        void this.close();
        onGone();
      }
    });
  }

  /** Answers the viewer's offer; resolves with the answer SDP (host candidates included). */
  async answer(offerSdp: string, gatherTimeoutMs: number, timers: Timers): Promise<string> {
    await this.#pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    const video = this.#pc.getTransceivers().find((transceiver) => transceiver.kind === "video");
    if (video === undefined) throw new Error("the offer has no video m-line");
    video.setDirection("sendonly");
    await video.sender.replaceTrack(this.#track);
    video.sender.onPictureLossIndication.subscribe(() => this.onKeyframeNeeded());
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    if (this.#pc.iceGatheringState !== "complete") {
      let timer: unknown;
      await Promise.race([
        new Promise<void>((resolve) =>
          this.#pc.iceGatheringStateChange.subscribe((state) => state === "complete" && resolve())
        ),
        new Promise<void>((resolve) => (timer = timers.setTimeout(resolve, gatherTimeoutMs))),
      ]);
      timers.clearTimeout(timer);
    }
    return this.#pc.localDescription!.sdp;
  }

  /** Copies one device packet to the viewer (each viewer rewrites its own copy's SSRC and numbers). */
  relay(packet: RtpPacket): void {
    if (this.#closed) return;
    this.packets++;
    this.#track.writeRtp(Buffer.from(packet.serialize()));
  }

  /** Tears the viewer down. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#track.stop();
    await this.#pc.close().catch(() => {});
  }
}
