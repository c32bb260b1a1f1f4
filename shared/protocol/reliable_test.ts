import assert from "node:assert/strict";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { ReliableInbox, ReliableOutbox } from "./reliable.ts";

Deno.test("ReliableOutbox numbers messages from 1 in send order and stamps the payload", () => {
  const outbox = new ReliableOutbox();
  assert.equal(outbox.nextSeq, 1);
  const input = { actionId: "a", x: 1, y: 1 };
  const first = outbox.stamp("ACTION_MOVE", input);
  const second = outbox.stamp("ACTION_KEY", { actionId: "b", keys: "a" });
  assert.deepEqual(first, { actionId: "a", x: 1, y: 1, seq: 1 });
  assert.equal(second.seq, 2);
  assert.equal(outbox.nextSeq, 3);
  assert.equal(outbox.pendingCount, 2);
  assert.ok(!("seq" in input), "the caller's object is not mutated");
});

Deno.test("a stamped payload is a valid wire message of its type", () => {
  const outbox = new ReliableOutbox();
  const payload = outbox.stamp("ACTION_CLICK", { actionId: "a", x: 1, y: 2 });
  const decoded = decodeFrame(encodeMessage("ACTION_CLICK", payload, 0));
  assert.ok(decoded.ok && decoded.value.type === "ACTION_CLICK");
  assert.equal(decoded.value.payload.seq, 1);
});

Deno.test("ReliableOutbox.acknowledge() is cumulative and ignores stale acknowledgements", () => {
  const outbox = new ReliableOutbox();
  for (let i = 0; i < 5; i++) outbox.stamp("PROGRESS", { taskId: "t", message: `${i}` });
  outbox.acknowledge(3);
  assert.equal(outbox.pendingCount, 2, "1..3 dropped by one ack of 3");
  outbox.acknowledge(1);
  assert.equal(outbox.pendingCount, 2, "an old acknowledgement changes nothing");
  outbox.acknowledge(0);
  assert.equal(outbox.pendingCount, 2);
  outbox.acknowledge(99);
  assert.equal(outbox.pendingCount, 0, "an ack beyond the last seq clears everything");
  assert.equal(outbox.stamp("PROGRESS", { taskId: "t", message: "next" }).seq, 6, "numbering continues");
});

Deno.test("ReliableOutbox.replayAfter() returns what the peer lacks, in order, with original payloads", () => {
  const outbox = new ReliableOutbox();
  for (let i = 0; i < 5; i++) outbox.stamp("PROGRESS", { taskId: "t", message: `${i}` });
  const replay = outbox.replayAfter(2);
  assert.deepEqual(replay.map((p) => p.seq), [3, 4, 5]);
  assert.deepEqual(replay.map((p) => p.type), ["PROGRESS", "PROGRESS", "PROGRESS"]);
  assert.deepEqual(replay[0].payload, { taskId: "t", message: "2", seq: 3 });
  assert.deepEqual(outbox.replayAfter(0).map((p) => p.seq), [3, 4, 5], "acknowledged ones stay gone");
  assert.equal(outbox.pendingCount, 3, "replaying keeps messages until acknowledged");
  assert.deepEqual(outbox.replayAfter(5), []);
});

Deno.test("replay after repeated drops delivers each message exactly once, in order", () => {
  const outbox = new ReliableOutbox();
  const inbox = new ReliableInbox();
  const delivered: number[] = [];
  const deliver = (seq: number) => inbox.accept(seq) && delivered.push(seq);
  for (let i = 0; i < 10; i++) outbox.stamp("ACTION_MOVE", { actionId: `a${i}`, x: i, y: i });
  // First socket: 1..4 arrive, the rest are lost; no SEQ_ACK made it back.
  for (const p of outbox.replayAfter(0).slice(0, 4)) deliver(p.seq);
  // Resume: the receiver reports lastSeq 4; the sender replays 5..10, but the socket drops after 7.
  for (const p of outbox.replayAfter(inbox.lastSeq).slice(0, 3)) deliver(p.seq);
  // Resume with a stale lastSeq (the peer's report raced): duplicates 6..7 are refused.
  for (const p of outbox.replayAfter(5)) deliver(p.seq);
  assert.deepEqual(delivered, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  outbox.acknowledge(inbox.lastSeq);
  assert.equal(outbox.pendingCount, 0);
});

Deno.test("ReliableInbox accepts each seq once and refuses duplicates and older seqs", () => {
  const inbox = new ReliableInbox();
  assert.equal(inbox.lastSeq, 0);
  assert.deepEqual([1, 2, 2, 1, 3].map((seq) => inbox.accept(seq)), [true, true, false, false, true]);
  assert.equal(inbox.lastSeq, 3);
  assert.equal(inbox.accept(0), false);
});

Deno.test("ReliableInbox is a high-water mark: after a gap, the skipped seqs are refused", () => {
  const inbox = new ReliableInbox();
  assert.ok(inbox.accept(1));
  assert.ok(inbox.accept(5), "a jump is accepted (the transport is in order, so this is a new message)");
  assert.ok(!inbox.accept(4), "an older seq is a duplicate by definition");
  assert.equal(inbox.lastSeq, 5);
});
