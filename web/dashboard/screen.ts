/// <reference lib="dom" />
/**
 * A device's live screen. A device that sends a video track (the browser device) is watched through a
 * viewer peer (`POST /api/devices/:id/viewer`, WHEP-style: one offer, one answer); any other device that
 * captures is shown as frames fetched one after another (`GET /api/devices/:id/frame`, with the token, as a
 * blob). The element carries `data-screen` (`video`, `frames`, `none`, `offline`) and, once a picture is
 * shown, `data-live="true"`.
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

function videoScreen(api: Api, device: Device, element: HTMLElement, status: HTMLElement): LiveScreen {
  const video = h("video", { muted: true, autoplay: true, playsinline: true, id: "screen-video" });
  video.muted = true;
  replace(element, video, status);
  status.textContent = "Connecting to the live video…";
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("video", { direction: "recvonly" });
  let viewerId: string | null = null;
  let stopped = false;
  const close = () => {
    pc.close();
    if (viewerId !== null) {
      void api.delete(`/api/devices/${seg(device.id)}/viewer/${seg(viewerId)}`).catch(() => {});
    }
    viewerId = null;
  };
  pc.ontrack = (event) => {
    video.srcObject = new MediaStream([event.track]);
    void video.play().catch(() => {});
  };
  video.addEventListener("resize", () => {
    if (video.videoWidth === 0) return;
    element.dataset.live = "true";
    status.textContent = `Live video ${video.videoWidth}×${video.videoHeight} (relayed by the server)`;
  });
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed") status.textContent = "The video connection failed; reopen the page.";
  };
  (async () => {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const done = () => pc.iceGatheringState === "complete" && resolve();
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 2000);
    });
    const answer = await api.post<{ viewerId: string; sdp: string }>(
      `/api/devices/${seg(device.id)}/viewer`,
      { sdp: pc.localDescription!.sdp },
    );
    viewerId = answer.viewerId;
    if (stopped) return close();
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  })().catch((error) => {
    if (!stopped) replace(element, errorBox(error, "screen-error"));
  });
  return {
    element,
    mode: "video",
    stop() {
      stopped = true;
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
