import assert from "node:assert/strict";
import { ReliableInbox, ReliableOutbox } from "./reliable.ts";

Deno.test("ReliableOutbox numbers messages from 1 and drops them on cumulative acknowledgement", () => {
  const outbox = new ReliableOutbox();
  const first = outbox.stamp("ACTION_MOVE", { actionId: "a", x: 1, y: 1 });
  const second = outbox.stamp("ACTION_MOVE", { actionId: "b", x: 2, y: 2 });
  outbox.stamp("ACTION_KEY", { actionId: "c", keys: "a" });
  assert.deepEqual([first.seq, second.seq], [1, 2]);
  outbox.acknowledge(2);
  assert.equal(outbox.pendingCount, 1);
  outbox.acknowledge(1);
  assert.equal(outbox.pendingCount, 1, "an old acknowledgement changes nothing");
});

Deno.test("ReliableOutbox.replayAfter() returns what the peer lacks, in order", () => {
  const outbox = new ReliableOutbox();
  for (let i = 0; i < 5; i++) outbox.stamp("PROGRESS", { taskId: "t", message: `${i}` });
  assert.deepEqual(outbox.replayAfter(2).map((p) => p.seq), [3, 4, 5]);
  assert.deepEqual(outbox.replayAfter(0).map((p) => p.seq), [3, 4, 5], "acknowledged ones stay gone");
});

Deno.test("ReliableInbox accepts each seq once and refuses duplicates", () => {
  const inbox = new ReliableInbox();
  assert.deepEqual([1, 2, 2, 1, 3].map((seq) => inbox.accept(seq)), [true, true, false, false, true]);
  assert.equal(inbox.lastSeq, 3);
});
