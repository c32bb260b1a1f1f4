/**
 * An in-process device built from the Deno client's own parts (DeviceConnection, DeviceRuntime,
 * ClientMedia over a real WebSocket and a real werift peer) whose "screen" is a fixed image: for tests and
 * benchmarks of the media path that need a known frame, without an X server.
 */
import { systemClock } from "../../shared/clock.ts";
import type { DeviceAction } from "../../shared/actions.ts";
import { connectWebSocket } from "../../shared/transport/websocket.ts";
import type { Transport } from "../../shared/transport/transport.ts";
import { DeviceConnection } from "../../client/connection.ts";
import { ClientMedia } from "../../client/media.ts";
import { type ActionExecutor, DeviceRuntime, type ExecutionOutcome } from "../../client/runtime.ts";

/** A running media device. */
export interface MediaDevice {
  deviceId: string;
  connection: DeviceConnection;
  media: ClientMedia | null;
  /** Resolves once frames travel on the data channel. */
  channelOpen: Promise<void>;
  /** Drops the WebSocket as a network blip would (the client reconnects and resumes its session). */
  dropSocket(): void;
  close(): Promise<void>;
}

/** Options of a media device. */
export interface MediaDeviceOptions {
  /** The JPEG every capture returns, and its size. */
  image: Uint8Array;
  width: number;
  height: number;
  /** Offer WebRTC (default true). */
  webrtc?: boolean;
  chunkMessageBytes?: number;
  /** Opens the control path's transport (default: the standard WebSocket, as the browser does). */
  connect?: (url: string) => Promise<Transport>;
}

/** Connects a capture-only device to `wsUrl` and waits for READY. */
export async function startMediaDevice(
  wsUrl: string,
  key: string,
  name: string,
  options: MediaDeviceOptions,
): Promise<MediaDevice> {
  const webrtc = options.webrtc ?? true;
  const opened = Promise.withResolvers<void>();
  let media: ClientMedia | null = null;
  let runtime: DeviceRuntime | null = null;
  let transport: Transport | null = null;
  const connection = new DeviceConnection({
    url: wsUrl,
    key,
    clientVersion: "alien3-test-media/0.1.0",
    clock: systemClock,
    connect: async (url) => (transport = await (options.connect ?? connectWebSocket)(url)),
    capabilities: () =>
      Promise.resolve({
        name,
        os: { platform: "test" },
        screens: [{ width: options.width, height: options.height }],
        input: { mouse: false, keyboard: false },
        media: { capture: true, webrtc },
      }),
    onMessage: (message) => {
      if (media?.handle(message)) return;
      runtime?.handle(message);
    },
    onNewSession: () => media?.reset(),
  });
  if (webrtc) {
    media = new ClientMedia({
      send: (type, payload) => connection.send(type, payload),
      chunkMessageBytes: options.chunkMessageBytes,
      onPath: (path) => path === "webrtc" && opened.resolve(),
    });
  }
  const executor: ActionExecutor = {
    execute(action: DeviceAction): Promise<ExecutionOutcome> {
      if (action.type !== "frame") {
        return Promise.resolve({
          ok: false,
          error: {
            code: "no-input",
            message: "Cannot execute action: device has no input ability",
            retryable: false,
          },
        });
      }
      return Promise.resolve({
        ok: true,
        frame: {
          meta: {
            format: "jpeg",
            width: options.width,
            height: options.height,
            originalWidth: options.width,
            originalHeight: options.height,
            capturedAtMs: Date.now(),
          },
          image: options.image,
        },
      });
    },
    cancel() {},
  };
  runtime = new DeviceRuntime({
    sender: connection,
    executor,
    files: {
      fetchInputs: () => Promise.resolve(),
      uploadOutputs: () => Promise.resolve([]),
      handle: () => false,
    },
    clock: systemClock,
    frames: media ?? undefined,
  });
  connection.start();
  await connection.ready;
  return {
    deviceId: connection.deviceId!,
    connection,
    media,
    channelOpen: opened.promise,
    dropSocket: () => transport?.close(1000, "network blip"),
    async close() {
      connection.stop();
      await connection.stopped;
      await media?.close();
    },
  };
}
