import assert from "node:assert/strict";
import { ActionFrames } from "./action_frames.ts";

const frame = (bytes: number) => ({
  meta: {
    format: "jpeg" as const,
    width: 1,
    height: 1,
    originalWidth: 1,
    originalHeight: 1,
    capturedAtMs: 0,
  },
  image: new Uint8Array(bytes),
});

Deno.test("ActionFrames keeps the newest frames by count, oldest dropped first", () => {
  const frames = new ActionFrames({ maxFrames: 2 });
  frames.put("d", "a1", frame(1));
  frames.put("d", "a2", frame(1));
  frames.put("d", "a3", frame(1));
  assert.equal(frames.get("d", "a1"), undefined);
  assert.ok(frames.get("d", "a2") && frames.get("d", "a3"));
});

Deno.test("ActionFrames keeps at most maxBytes, and never a frame larger than that", () => {
  const frames = new ActionFrames({ maxFrames: 10, maxBytes: 10 });
  frames.put("d", "a1", frame(4));
  frames.put("d", "a2", frame(4));
  frames.put("d", "a3", frame(4));
  assert.deepEqual(["a1", "a2", "a3"].map((id) => frames.get("d", id) !== undefined), [false, true, true]);
  assert.equal(frames.put("d", "big", frame(11)), false);
  assert.equal(frames.get("d", "big"), undefined);
  assert.ok(frames.get("d", "a3"), "a refused frame drops nothing");
});

Deno.test("ActionFrames finds a frame only under the device that took it", () => {
  const frames = new ActionFrames();
  frames.put("d1", "a", frame(1));
  assert.equal(frames.get("d2", "a"), undefined);
  assert.ok(frames.get("d1", "a"));
});
