/// <reference lib="dom" />
/**
 * The browser device client, the page served at `/device`: a person enters the server's device key and a
 * name (or opens a link whose fragment `#key=…&name=…` fills both; the key never goes into a query
 * string), presses Share, and the page joins as a screen-only device: the same control path as the Deno
 * client (`client/connection.ts` over `shared/transport/websocket.ts`), its screen as a WebRTC video
 * track, REQUEST_FRAME answered from a canvas on the `frames` data channel (STREAM_FRAME when the channel
 * is not open). It shows its state, stops on Stop, and reconnects on its own.
 */
import { systemClock } from "../shared/clock.ts";
import type { PayloadInputOf } from "../shared/protocol/mod.ts";
import { connectWebSocket } from "../shared/transport/websocket.ts";
import { type ConnectionStatus, DeviceConnection } from "../client/connection.ts";
import { DeviceRuntime } from "../client/runtime.ts";
import { BrowserMedia } from "./browser_media.ts";
import { CanvasCapture } from "./canvas_capture.ts";

/** The client's version, sent in CONNECT. */
export const BROWSER_CLIENT_VERSION = "alien3-browser/0.1.0";

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

const keyInput = element<HTMLInputElement>("key");
const nameInput = element<HTMLInputElement>("name");
const shareButton = element<HTMLButtonElement>("share");
const stopButton = element<HTMLButtonElement>("stop");
const stateText = element<HTMLElement>("state");
const pathText = element<HTMLElement>("path");
const preview = element<HTMLVideoElement>("preview");

/** What the page shows and tests read: `data-state` and `data-path` on <body>. */
function show(state: string, detail = ""): void {
  document.body.dataset.state = state;
  stateText.textContent = detail ? `${state}: ${detail}` : state;
}

function showPath(peer: string, path: "webrtc" | "wss"): void {
  document.body.dataset.path = path;
  document.body.dataset.peer = peer;
  pathText.textContent = `frames by ${path === "webrtc" ? "WebRTC" : "WebSocket"} (peer ${peer})`;
}

// The fragment pre-fills the form: an operator can hand out a link without the key reaching any server log.
const fragment = new URLSearchParams(location.hash.slice(1));
keyInput.value = fragment.get("key") ?? "";
nameInput.value = fragment.get("name") ?? "";

interface Session {
  stream: MediaStream;
  connection: DeviceConnection;
  media: BrowserMedia;
  stopped: boolean;
}

let session: Session | null = null;

function deviceUrl(): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/v1/device`;
}

function platform(): string {
  const data = (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData;
  return (data?.platform || navigator.platform || "browser").toLowerCase().slice(0, 32) || "browser";
}

async function share(): Promise<void> {
  const key = keyInput.value.trim();
  const name = nameInput.value.trim();
  if (key === "") return show("error", "enter the device key");
  if (!NAME_PATTERN.test(name)) return show("error", "a name uses 1-100 letters, digits, '.', '_' or '-'");
  shareButton.disabled = true;
  show("sharing", "choose a screen");
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (error) {
    shareButton.disabled = false;
    return show("error", `cannot share the screen (${(error as Error).name}: ${(error as Error).message})`);
  }
  const track = stream.getVideoTracks()[0];
  preview.srcObject = stream;
  await preview.play().catch(() => {});
  if (preview.videoWidth === 0) {
    await new Promise((resolve) => preview.addEventListener("loadedmetadata", resolve, { once: true }));
  }
  track.addEventListener("ended", () => stop("the screen share ended"));
  start(stream, track, key, name);
}

function start(stream: MediaStream, track: MediaStreamTrack, key: string, name: string): void {
  let runtime: DeviceRuntime | null = null;
  const capabilities = (): Promise<PayloadInputOf<"REGISTER_CAPABILITIES">> =>
    Promise.resolve({
      name,
      os: { platform: platform(), version: navigator.userAgent.slice(0, 128), hostname: location.hostname },
      screens: [{ width: preview.videoWidth, height: preview.videoHeight }],
      input: { mouse: false, keyboard: false },
      media: { capture: true, webrtc: true },
      tags: ["browser"],
      maxTasks: 1,
    });
  const connection = new DeviceConnection({
    url: deviceUrl(),
    key,
    clientVersion: BROWSER_CLIENT_VERSION,
    capabilities,
    connect: (url) => connectWebSocket(url),
    clock: systemClock,
    // A page left open keeps trying: a server restart or a network change is not a reason to give up.
    maxInitialAttempts: Number.MAX_SAFE_INTEGER,
    onMessage: (message) => {
      if (media.handle(message)) return;
      runtime?.handle(message);
    },
    onStatus: (status: ConnectionStatus, detail?: string) => {
      if (status === "ready") show("ready", `connected as ${detail}`);
      else if (status !== "stopped") show(status, detail);
    },
    onNewSession: () => {
      runtime?.reset();
      media.reset();
    },
  });
  const media = new BrowserMedia({
    send: (type, payload) => connection.send(type, payload),
    track,
    onChange: ({ peer, path }) => showPath(peer, path),
  });
  runtime = new DeviceRuntime({
    sender: connection,
    executor: new CanvasCapture(preview),
    files: {
      fetchInputs: (_taskId, inputs) =>
        inputs.length === 0
          ? Promise.resolve()
          : Promise.reject(new Error("a browser device keeps no files")),
      uploadOutputs: (_taskId, outputs) =>
        outputs.length === 0
          ? Promise.resolve([])
          : Promise.reject(new Error("a browser device keeps no files")),
      handle: () => false,
    },
    clock: systemClock,
    frames: media,
  });
  const current: Session = { stream, connection, media, stopped: false };
  session = current;
  stopButton.disabled = false;
  keyInput.disabled = nameInput.disabled = true;
  showPath("none", "wss");
  connection.start();
  void connection.stopped.then((reason) => {
    media.reset();
    if (current.stopped) return;
    if (reason.kind === "fatal") {
      stop(reason.message);
      return show("error", reason.message);
    }
  });
}

function stop(why = "stopped by you"): void {
  const current = session;
  if (current === null) return;
  session = null;
  current.stopped = true;
  current.connection.stop(why);
  current.media.reset();
  for (const track of current.stream.getTracks()) track.stop();
  preview.srcObject = null;
  shareButton.disabled = false;
  stopButton.disabled = true;
  keyInput.disabled = nameInput.disabled = false;
  show("stopped", why);
}

shareButton.addEventListener("click", () => void share());
stopButton.addEventListener("click", () => stop());
show("idle");
