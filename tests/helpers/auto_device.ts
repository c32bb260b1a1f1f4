/**
 * A raw protocol device that does its work by itself, for end-to-end tests of what the server decides: it
 * accepts tasks, answers every action with success (recording it), answers REQUEST_FRAME with a real image
 * of its screen size, and finishes tasks. Tests read what it was asked to do.
 */
import sharp from "sharp";
import { encodeStreamFrame, type Message } from "../../shared/protocol/mod.ts";
import { RawDevice } from "./raw_device.ts";

/** An action the device was asked to carry out. */
export interface ActionSeen {
  type: string;
  payload: Record<string, unknown>;
}

/** A running auto device. */
export interface AutoDevice {
  device: RawDevice;
  deviceId: string;
  actions: ActionSeen[];
  /** Frames it sent. */
  frames: number;
  close(): Promise<void>;
}

/** Connects a device of `width`×`height` pixels that answers everything with success. */
export async function startAutoDevice(
  url: string,
  key: string,
  name: string,
  options: { width?: number; height?: number; run?: boolean } = {},
): Promise<AutoDevice> {
  const width = options.width ?? 1280;
  const height = options.height ?? 800;
  const png = new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png()
      .toBuffer(),
  );
  const device = await RawDevice.open(url);
  const deviceId = (await device.handshake(key, name, {
    screens: [{ width, height }],
    input: { mouse: true, keyboard: true },
    media: { capture: true, webrtc: false },
    run: options.run ?? false,
  })).ready.payload.deviceId;
  const auto: AutoDevice = { device, deviceId, actions: [], frames: 0, close: () => device.close() };
  device.onMessage = (message: Message) => {
    const payload = message.payload as Record<string, unknown>;
    switch (message.type) {
      case "EXECUTE_TASK":
        device.sendReliable("TASK_ACCEPTED", { taskId: message.payload.taskId });
        return;
      case "FINISH_TASK":
        device.sendReliable("RESULT", { taskId: message.payload.taskId, ok: true });
        return;
      case "REQUEST_FRAME": {
        const actionId = message.payload.actionId;
        const meta = {
          actionId,
          format: "png" as const,
          width,
          height,
          originalWidth: width,
          originalHeight: height,
          capturedAtMs: Date.now(),
        };
        device.send("STREAM_FRAME", encodeStreamFrame(meta, png));
        device.sendReliable("RESULT", { actionId, ok: true });
        auto.frames++;
        return;
      }
    }
    if (message.type.startsWith("ACTION_") || message.type.startsWith("REQUEST_")) {
      auto.actions.push({ type: message.type, payload });
      const output = message.type === "REQUEST_WINDOWS" ? { windows: [] } : undefined;
      device.sendReliable("RESULT", { actionId: payload.actionId as string, ok: true, output });
    }
  };
  device.received.length = 0;
  return auto;
}
