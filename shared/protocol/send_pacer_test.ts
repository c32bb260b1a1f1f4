import assert from "node:assert/strict";
import { SendPacer } from "./send_pacer.ts";

Deno.test("SendPacer sends everything at once until a rate is set", () => {
  const pacer = new SendPacer<number>();
  [1, 2, 3].forEach((n) => pacer.push(n));
  assert.deepEqual(pacer.take(0), [1, 2, 3]);
  assert.equal(pacer.waitMs(0), null);
});

Deno.test("SendPacer releases one second's worth at once, then one per token, in order, dropping nothing", () => {
  const pacer = new SendPacer<number>();
  pacer.setRate(4, 0);
  for (let n = 1; n <= 7; n++) pacer.push(n);
  assert.deepEqual(pacer.take(0), [1, 2, 3, 4]);
  assert.equal(pacer.waitMs(0), 250);
  assert.deepEqual(pacer.take(249), []);
  assert.deepEqual(pacer.take(250), [5]);
  assert.deepEqual(pacer.take(750), [6, 7]);
  assert.equal(pacer.length, 0);
  assert.equal(pacer.waitMs(750), null);
});

Deno.test("SendPacer holds everything while paused, and puts resent items ahead of the waiting ones", () => {
  const pacer = new SendPacer<string>((item) => item.length);
  pacer.setRate(100, 0);
  pacer.push("new-1");
  pacer.pauseUntil(300);
  pacer.pauseUntil(100);
  assert.deepEqual(pacer.take(299), [], "a pause is never shortened");
  assert.equal(pacer.waitMs(200), 100);
  pacer.pushFront(["old-3", "old-4"]);
  assert.equal(pacer.queuedBytes, 15);
  assert.deepEqual(pacer.take(300), ["old-3", "old-4", "new-1"]);
  assert.equal(pacer.queuedBytes, 0);
});

Deno.test("SendPacer.clear() forgets waiting items and the pause", () => {
  const pacer = new SendPacer<number>();
  pacer.setRate(1, 0);
  [1, 2, 3].forEach((n) => pacer.push(n));
  pacer.pauseUntil(10_000);
  pacer.clear();
  pacer.push(4);
  assert.deepEqual(pacer.take(0), [4]);
});
