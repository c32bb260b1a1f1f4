import assert from "node:assert/strict";
import {
  assertDagTransition,
  assertTransition,
  DAG_STATUSES,
  DAG_TRANSITIONS,
  IllegalTransitionError,
  isFinal,
  NODE_STATUSES,
  NODE_TRANSITIONS,
} from "./transitions.ts";

Deno.test("assertTransition() allows exactly the table's node transitions and refuses every other pair", () => {
  let legal = 0;
  for (const from of NODE_STATUSES) {
    for (const to of NODE_STATUSES) {
      const allowed = (NODE_TRANSITIONS[from] as readonly string[]).includes(to);
      if (allowed) {
        legal++;
        assert.doesNotThrow(() => assertTransition("n", from, to), `${from} -> ${to}`);
        continue;
      }
      assert.throws(
        () => assertTransition("n", from, to),
        (error: unknown) =>
          error instanceof IllegalTransitionError && error.code === "illegal-transition" &&
          error.from === from && error.to === to &&
          error.message === `Cannot move node n from ${from} to ${to}: not a legal transition`,
        `${from} -> ${to}`,
      );
    }
  }
  assert.equal(legal, 16, "the table lists 16 legal moves out of 64 pairs");
});

Deno.test("final node states have no way out; nothing moves back to running or waiting from the end", () => {
  assert.deepEqual(NODE_STATUSES.filter(isFinal), ["succeeded", "failed", "skipped", "cancelled"]);
  assert.throws(() => assertTransition("n", "succeeded", "running"), IllegalTransitionError);
  assert.throws(() => assertTransition("n", "waiting", "running"), IllegalTransitionError);
  assert.throws(() => assertTransition("n", "pending", "succeeded"), IllegalTransitionError);
});

Deno.test("assertDagTransition() lets a running DAG end once and refuses the rest", () => {
  for (const from of DAG_STATUSES) {
    for (const to of DAG_STATUSES) {
      const allowed = (DAG_TRANSITIONS[from] as readonly string[]).includes(to);
      if (allowed) assert.doesNotThrow(() => assertDagTransition("d", from, to));
      else assert.throws(() => assertDagTransition("d", from, to), /Cannot move dag d from/);
    }
  }
});
