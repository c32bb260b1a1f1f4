import assert from "node:assert/strict";
import { LocalActions, RUN_OUTPUT_CAP_BYTES } from "./local_actions.ts";
import type { ActionExecutor } from "./runtime.ts";

/** A body that must not be asked: `run` is the client's own action. */
const noBody: ActionExecutor = {
  execute: () => Promise.reject(new Error("run must not reach the body")),
  cancel: () => {},
};

async function withActions(allowRun: boolean, use: (actions: LocalActions) => Promise<void>): Promise<void> {
  const filesDir = await Deno.makeTempDir({ prefix: "alien3-local-actions-" });
  try {
    await use(new LocalActions({ body: noBody, filesDir, allowRun }));
  } finally {
    await Deno.remove(filesDir, { recursive: true });
  }
}

Deno.test("run keeps at most RUN_OUTPUT_CAP_BYTES of stdout and says it cut the rest; short stderr is whole", async () => {
  await withActions(true, async (actions) => {
    const outcome = await actions.execute({
      type: "run",
      command: "sh",
      args: ["-c", `head -c ${RUN_OUTPUT_CAP_BYTES + 5000} /dev/zero | tr '\\0' x; echo oops >&2`],
      timeoutMs: 10_000,
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const output = outcome.output as {
      exitCode: number;
      stdout: string;
      stderr: string;
      stdoutTruncated: boolean;
      stderrTruncated: boolean;
    };
    assert.equal(output.exitCode, 0);
    assert.equal(output.stdout, "x".repeat(RUN_OUTPUT_CAP_BYTES));
    assert.equal(output.stdoutTruncated, true);
    assert.equal(output.stderr, "oops\n");
    assert.equal(output.stderrTruncated, false);
  });
});

Deno.test("run output exactly at the cap is whole and not marked cut", async () => {
  await withActions(true, async (actions) => {
    const outcome = await actions.execute({
      type: "run",
      command: "sh",
      args: ["-c", `head -c ${RUN_OUTPUT_CAP_BYTES} /dev/zero | tr '\\0' y`],
      timeoutMs: 10_000,
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const output = outcome.output as { stdout: string; stdoutTruncated: boolean };
    assert.equal(output.stdout.length, RUN_OUTPUT_CAP_BYTES);
    assert.equal(output.stdoutTruncated, false);
  });
});

Deno.test("run is refused with run-not-allowed on a device without --allow-run", async () => {
  await withActions(false, async (actions) => {
    const outcome = await actions.execute({ type: "run", command: "true", args: [], timeoutMs: 1000 });
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.code, "run-not-allowed");
  });
});
