/** werift settings shared by the device peers and the viewer peers: one place for codecs and ICE. */
import { type RTCPeerConnection, RTCRtpCodecParameters } from "werift";

/** werift's peer configuration (the constructor's argument). */
export type PeerConfig = NonNullable<ConstructorParameters<typeof RTCPeerConnection>[0]>;

/** ICE settings of every server peer. */
export interface IceSettings {
  /** STUN/TURN servers (default none: devices reach the server directly or through its host addresses). */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /**
   * Host addresses offered besides the interfaces' own (default `["127.0.0.1"]`: werift leaves loopback
   * out otherwise, and devices on the server's machine, tests among them, connect over it).
   */
  iceAdditionalHostAddresses?: string[];
  /**
   * Which candidate pairs the server checks, and which connectivity checks it answers: tests force WebRTC
   * to fail by refusing all of both (`() => false`).
   */
  iceFilterCandidatePair?: PeerConfig["iceFilterCandidatePair"];
  iceFilterStunResponse?: PeerConfig["iceFilterStunResponse"];
}

/** VP8 only: Chromium sends it by default, and one codec keeps relaying to viewers a plain copy. */
export function videoCodecs(): RTCRtpCodecParameters[] {
  return [
    new RTCRtpCodecParameters({
      mimeType: "video/VP8",
      clockRate: 90000,
      payloadType: 96,
      rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }],
    }),
  ];
}

/** The werift configuration of a server peer. */
export function peerConfig(ice: IceSettings): PeerConfig {
  return {
    iceServers: ice.iceServers ?? [],
    iceAdditionalHostAddresses: ice.iceAdditionalHostAddresses ?? ["127.0.0.1"],
    bundlePolicy: "max-bundle",
    maxMessageSize: 256 * 1024,
    codecs: { video: videoCodecs(), audio: [] },
    ...(ice.iceFilterCandidatePair ? { iceFilterCandidatePair: ice.iceFilterCandidatePair } : {}),
    ...(ice.iceFilterStunResponse ? { iceFilterStunResponse: ice.iceFilterStunResponse } : {}),
  };
}
