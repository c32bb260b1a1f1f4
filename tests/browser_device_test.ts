/// <reference lib="dom" />
/**
 * The browser device client in real headless Chromium against the real server: the page served at
 * `/device`, getDisplayMedia on Chromium's fake screen, the server's werift peer, and a second page as an
 * operator's viewer of the relayed video.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import sharp from "sharp";
import type { Page } from "puppeteer-core";
import { type Chromium, evaluateAsUser, launchChromium, waitForBodyData } from "./helpers/chromium.ts";
import { startTestServer, type TestServer, untilDevice } from "./helpers/server.ts";

const test = (name: string, fn: () => Promise<void>) =>
  // puppeteer keeps its CDP socket's reads pending past close(); the browser process itself is awaited.
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });

interface DeviceJson {
  id: string;
  state: string;
  capabilities: {
    input: { mouse: boolean; keyboard: boolean };
    media: { capture: boolean; webrtc: boolean };
    screens: Array<{ width: number; height: number }>;
  };
  media: {
    path: string | null;
    peer: string | null;
    fps: number;
    bytesPerSecond: number;
    lastFrameAgeMs: number | null;
    video: { packets: number; bytes: number; viewers: number } | null;
  };
}

async function deviceJson(server: TestServer, name: string): Promise<DeviceJson> {
  const response = await server.api(`/api/devices/${name}`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** Opens the device page with key and name in the fragment, shares, and waits for READY and WebRTC. */
async function shareFrom(chromium: Chromium, server: TestServer, name: string): Promise<Page> {
  const page = await chromium.open(
    `${server.url}/device#key=${encodeURIComponent(server.deviceKey)}&name=${name}`,
  );
  await evaluateAsUser(page, `document.getElementById("share").click()`);
  await waitForBodyData(page, "state", "ready");
  await waitForBodyData(page, "path", "webrtc");
  return page;
}

async function sharedScreenSize(page: Page): Promise<{ width: number; height: number }> {
  return await page.evaluate(() => {
    const video = document.getElementById("preview") as HTMLVideoElement;
    const settings = (video.srcObject as MediaStream).getVideoTracks()[0].getSettings();
    return { width: settings.width!, height: settings.height! };
  });
}

test("/device is served without a token and the link's fragment fills in the key and the name", async () => {
  const server = await startTestServer();
  const chromium = await launchChromium();
  try {
    const html = await fetch(`${server.url}/device`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await html.text(), /id="share"/);
    const script = await fetch(`${server.url}/device.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    assert.ok((await script.arrayBuffer()).byteLength > 10_000);
    const page = await chromium.open(`${server.url}/device#key=a3d_secret-key&name=lobby-screen`);
    await waitForBodyData(page, "state", "idle");
    const filled = await page.evaluate(() => ({
      key: (document.getElementById("key") as HTMLInputElement).value,
      name: (document.getElementById("name") as HTMLInputElement).value,
      search: location.search,
    }));
    assert.deepEqual(filled, { key: "a3d_secret-key", name: "lobby-screen", search: "" });
  } finally {
    await chromium.close();
    await server.close();
  }
});

test("a browser device shares its screen: screen-only capabilities, RTP of the video track, REQUEST_FRAME answered with a JPEG of the screen's size on the data channel", async () => {
  const server = await startTestServer();
  const chromium = await launchChromium();
  try {
    const page = await shareFrom(chromium, server, "web-share");
    const screen = await sharedScreenSize(page);
    const device = await untilDevice<DeviceJson>(
      server,
      "web-share",
      (d) => (d.media.video?.packets ?? 0) > 0,
    );
    assert.equal(device.state, "ready");
    assert.deepEqual(device.capabilities.input, { mouse: false, keyboard: false });
    assert.deepEqual(device.capabilities.media, { capture: true, webrtc: true });
    assert.deepEqual(device.capabilities.screens, [screen]);
    assert.equal(device.media.path, "webrtc");
    assert.equal(device.media.peer, "connected");

    const outcome = await server.dispatcher.execute(device.id, {
      type: "frame",
      format: "jpeg",
      scale: 1,
      quality: 80,
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const output = outcome.output as { path: string; sha256: string; width: number; height: number };
    assert.equal(output.path, "webrtc");
    const frame = outcome.frame!;
    assert.equal(createHash("sha256").update(frame.image).digest("hex"), output.sha256);
    const decoded = await sharp(frame.image).raw().toBuffer({ resolveWithObject: true });
    assert.equal(decoded.info.format, "raw");
    const metadata = await sharp(frame.image).metadata();
    assert.equal(metadata.format, "jpeg");
    assert.deepEqual({ width: decoded.info.width, height: decoded.info.height }, screen);
    assert.deepEqual({ width: frame.meta.width, height: frame.meta.height }, screen);

    // An input action is refused as the capabilities say.
    const click = await server.dispatcher.execute(device.id, {
      type: "click",
      x: 1,
      y: 1,
      button: "left",
      double: false,
    });
    assert.ok(!click.ok);
    assert.equal(click.error.code, "no-input");

    // The REST frame route reads the same path; the media field counts the frames.
    const askedAtMs = Date.now();
    const rest = await server.api(`/api/devices/web-share/frame`);
    assert.equal(rest.status, 200);
    assert.equal(rest.headers.get("content-type"), "image/jpeg");
    await rest.arrayBuffer();
    const after = await deviceJson(server, "web-share");
    assert.ok(after.media.fps > 0 && after.media.bytesPerSecond > 0, JSON.stringify(after.media));
    const sinceAskedMs = Date.now() - askedAtMs;
    assert.ok(
      after.media.lastFrameAgeMs !== null && after.media.lastFrameAgeMs >= 0 &&
        after.media.lastFrameAgeMs <= sinceAskedMs,
      `the last frame is the one just asked for or newer: ${after.media.lastFrameAgeMs} ms old, asked ${sinceAskedMs} ms ago`,
    );

    // Stop: the device goes offline, its peer with it.
    await page.click("#stop");
    await waitForBodyData(page, "state", "stopped");
    const gone = await untilDevice<DeviceJson>(server, "web-share", (d) => d.state === "offline");
    assert.equal(gone.media.path, null);
    assert.equal(gone.media.peer, null);
  } finally {
    await chromium.close();
    await server.close();
  }
});

test("a viewer peer receives the relayed video track of a browser device and plays it", async () => {
  const server = await startTestServer();
  const chromium = await launchChromium();
  try {
    await shareFrom(chromium, server, "web-live");
    await untilDevice<DeviceJson>(server, "web-live", (d) => (d.media.video?.packets ?? 0) > 0);
    // The operator's page: same origin, so it can call the API with its token.
    const viewer = await chromium.open(`${server.url}/healthz`);
    const played = await viewer.evaluate(async (token: string) => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pc.addTransceiver("video", { direction: "recvonly" });
      const video = document.createElement("video");
      video.muted = true;
      document.body.append(video);
      const gotTrack = new Promise<void>((resolve) => {
        pc.ontrack = (event) => {
          video.srcObject = new MediaStream([event.track]);
          void video.play();
          resolve();
        };
      });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
      });
      const response = await fetch("/api/devices/web-live/viewer", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ sdp: pc.localDescription!.sdp }),
      });
      const answer = await response.json();
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      await gotTrack;
      const deadline = Date.now() + 20_000;
      await new Promise<void>((resolve, reject) => {
        const check = () =>
          video.videoWidth > 0
            ? resolve()
            : Date.now() > deadline
            ? reject(new Error("no picture within 20 s"))
            : setTimeout(check, 50);
        check();
      });
      return {
        status: response.status,
        viewerId: answer.viewerId,
        width: video.videoWidth,
        height: video.videoHeight,
      };
    }, server.operatorToken);
    assert.equal(played.status, 201);
    assert.ok(played.width > 0 && played.height > 0, JSON.stringify(played));
    const device = await deviceJson(server, "web-live");
    assert.equal(device.media.video?.viewers, 1);

    const closed = await server.api(`/api/devices/web-live/viewer/${played.viewerId}`, { method: "DELETE" });
    assert.equal(closed.status, 204);
    assert.equal((await deviceJson(server, "web-live")).media.video?.viewers, 0);
  } finally {
    await chromium.close();
    await server.close();
  }
});

test("the viewer endpoint needs the operator token and answers coded errors", async () => {
  const server = await startTestServer();
  try {
    const noToken = await server.api(`/api/devices/nobody/viewer`, {
      method: "POST",
      body: "{}",
      token: null,
    });
    assert.equal(noToken.status, 401);
    assert.equal((await noToken.json()).error.code, "unauthorized");
    const unknown = await server.api(`/api/devices/nobody/viewer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sdp: "v=0" }),
    });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, "unknown-device");
  } finally {
    await server.close();
  }
});
