/// <reference lib="dom" />
/**
 * A device's live screen. A device that sends a video track (the browser device) is watched through a
 * viewer peer (`POST /api/devices/:id/viewer`, WHEP-style: one offer, one answer); any other device that
 * captures is shown as frames fetched one after another (`GET /api/devices/:id/frame`, with the token, as a
 * blob). The element carries `data-screen` (`video`, `frames`, `none`, `offline`) and, once a picture is
 * shown, `data-live="true"`; a video screen also names its current viewer (`data-viewer-id`).
 */
import { type Api, seg } from "./api.ts";
import { errorBox, h, replace } from "./dom.ts";
import type { Device } from "./types.ts";

/** A mounted screen; `stop()` closes its peer or its frame loop. */
export interface LiveScreen {
  element: HTMLElement;
  /** Whether the screen shows video (a device that later starts a track is switched by its caller). */
  mode: "video" | "frames" | "none" | "offline";
  stop(): void;
}

/** Frames are fetched at most this often. */
const FRAME_INTERVAL_MS = 1000;

/** Which way a device's screen is shown. */
export function screenMode(device: Device): LiveScreen["mode"] {
  if (device.state === "offline") return "offline";
  if (device.media?.video) return "video";
  return device.capabilities?.media.capture ? "frames" : "none";
}

/** Starts showing the device's screen. */
export function liveScreen(api: Api, device: Device): LiveScreen {
  const mode = screenMode(device);
  const element = h("div", { class: "screen", id: "screen", "data-screen": mode });
  const status = h("p", { class: "screen-status muted" });
  if (mode === "offline") {
    replace(element, h("p", { class: "muted" }, "The device is offline: no screen to show."));
    return { element, mode, stop() {} };
  }
  if (mode === "none") {
    replace(element, h("p", { class: "muted" }, "This device does not capture its screen."));
    return { element, mode, stop() {} };
  }
  return mode === "video"
    ? videoScreen(api, device, element, status)
    : frameScreen(api, device, element, status);
}

/** A viewer peer that shows no picture within this long is closed and opened again. */
const VIDEO_START_MS = 15_000;

/**
 * The relayed video, through one viewer peer at a time. A peer that fails, or shows no picture within
 * `VIDEO_START_MS`, is closed and a new one opened after a pause that doubles up to 10 s (a loaded server or
 * a device that is slow to send its key frame); the page never has to be reopened.
 */
function videoScreen(api: Api, device: Device, element: HTMLElement, status: HTMLElement): LiveScreen {
  const video = h("video", { muted: true, autoplay: true, playsinline: true, id: "screen-video" });
  video.muted = true;
  const failure = h("div");
  replace(element, video, status, failure);
  status.textContent = "Connecting to the live video…";
  const abort = new AbortController();
  let current: { pc: RTCPeerConnection; viewerId: string | null } | null = null;
  const close = () => {
    if (current === null) return;
    current.pc.close();
    if (current.viewerId !== null) {
      void api.delete(`/api/devices/${seg(device.id)}/viewer/${seg(current.viewerId)}`).catch(() => {});
    }
    current = null;
  };
  video.addEventListener("resize", () => {
    if (video.videoWidth === 0) return;
    element.dataset.live = "true";
    failure.replaceChildren();
    status.textContent = `Live video ${video.videoWidth}×${video.videoHeight} (relayed by the server)`;
  });

  /** One viewer peer; resolves when it has failed (or the screen stopped). */
  const watch = async (): Promise<void> => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const peer = { pc, viewerId: null as string | null };
    current = peer;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (event) => {
      video.srcObject = new MediaStream([event.track]);
      void video.play().catch(() => {});
    };
    const ended = new Promise<void>((resolve) => {
      let disconnected: ReturnType<typeof setTimeout> | undefined;
      pc.onconnectionstatechange = () => {
        clearTimeout(disconnected);
        if (pc.connectionState === "failed" || pc.connectionState === "closed") resolve();
        // "disconnected" may heal by itself; after 5 s it is treated as lost.
        if (pc.connectionState === "disconnected") disconnected = setTimeout(resolve, 5000);
      };
      abort.signal.addEventListener("abort", () => resolve(), { once: true });
      // No picture in time: give this peer up.
      setTimeout(() => element.dataset.live !== "true" && resolve(), VIDEO_START_MS);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
      setTimeout(resolve, 2000);
    });
    const answer = await api.post<{ viewerId: string; sdp: string }>(
      `/api/devices/${seg(device.id)}/viewer`,
      { sdp: pc.localDescription!.sdp },
    );
    peer.viewerId = answer.viewerId;
    element.dataset.viewerId = answer.viewerId;
    if (abort.signal.aborted) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    await ended;
  };

  (async () => {
    let pauseMs = 1000;
    while (!abort.signal.aborted) {
      try {
        await watch();
      } catch (error) {
        if (abort.signal.aborted) return;
        replace(failure, errorBox(error, "screen-error"));
      }
      close();
      if (abort.signal.aborted) return;
      element.dataset.live = "false";
      status.textContent = `The video connection was lost; trying again in ${pauseMs / 1000} s…`;
      await pause(pauseMs, abort.signal);
      pauseMs = Math.min(pauseMs * 2, 10_000);
    }
  })();
  return {
    element,
    mode: "video",
    stop() {
      abort.abort();
      close();
    },
  };
}

function frameScreen(api: Api, device: Device, element: HTMLElement, status: HTMLElement): LiveScreen {
  const image = h("img", { id: "screen-frame", alt: `${device.name}'s screen` });
  const failure = h("div");
  replace(element, image, status, failure);
  status.textContent = "Fetching a frame…";
  const abort = new AbortController();
  let url: string | null = null;
  let count = 0;
  const screenWidth = device.capabilities?.screens[0]?.width ?? 1280;
  // A frame at most ~1280 px wide: enough for a page, light on the device.
  const scale = Math.min(1, Math.max(0.1, 1280 / screenWidth)).toFixed(2);
  (async () => {
    while (!abort.signal.aborted) {
      const started = performance.now();
      try {
        const { blob, headers } = await api.blob(
          `/api/devices/${seg(device.id)}/frame?scale=${scale}&quality=70`,
          abort.signal,
        );
        const next = URL.createObjectURL(blob);
        image.src = next;
        if (url !== null) URL.revokeObjectURL(url);
        url = next;
        count++;
        element.dataset.live = "true";
        element.dataset.frames = String(count);
        failure.replaceChildren();
        const capturedAt = Number(headers.get("x-captured-at"));
        status.textContent = `Frame ${headers.get("x-frame-width")}×${headers.get("x-frame-height")}` +
          (capturedAt ? ` at ${new Date(capturedAt).toLocaleTimeString([], { hour12: false })}` : "") +
          `, refreshed every ${FRAME_INTERVAL_MS / 1000} s`;
      } catch (error) {
        if (abort.signal.aborted) return;
        replace(failure, errorBox(error, "screen-error"));
        await pause(3000, abort.signal);
        continue;
      }
      await pause(Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started)), abort.signal);
      while (document.visibilityState === "hidden" && !abort.signal.aborted) await pause(500, abort.signal);
    }
  })();
  return {
    element,
    mode: "frames",
    stop() {
      abort.abort();
      if (url !== null) URL.revokeObjectURL(url);
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
