import assert from "node:assert/strict";
import sharp from "sharp";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startX11Desk } from "../helpers/x11_desk.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "steps that see, on a real desktop with real OCR: waitFor a text and clickText a button (the xmessage really exits); an absent text times out; the step log keeps the frames",
  live,
  async (t) => {
    const desk = await startX11Desk("x11-ocr");
    const { x, server } = desk;
    const dialog = new Deno.Command("xmessage", {
      args: ["-center", "-fn", "10x20", "-buttons", "Proceed", "Quarterly report ready"],
      env: { DISPLAY: x.display },
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    void dialog.status.then(() => exited = true);
    try {
      await t.step("waitFor the label, then clickText the button: the dialog closes", async () => {
        const id = await submitDag(server, {
          name: "proceed",
          nodes: [{
            id: "p",
            kind: "script",
            target: { device: "x11-ocr" },
            steps: [
              { type: "waitFor", text: "Quarterly report ready", timeoutMs: 20_000 },
              { type: "clickText", text: "Proceed", timeoutMs: 10_000 },
            ],
          }],
        });
        const view = await waitForDag(server, id, 60_000);
        assert.equal(view.state, "succeeded", JSON.stringify(view.nodes[0].error));
        await until(() => exited, "xmessage to exit (its button was clicked)", 10_000);
        const steps = (await (await server.api(`/api/dags/${id}/nodes/p/steps`)).json()).steps;
        assert.deepEqual(steps.map((s: { type: string; ok: boolean }) => [s.type, s.ok]), [
          ["waitFor", true],
          ["clickText", true],
        ]);
        for (const step of steps) {
          assert.ok(step.frame, `${step.type} kept the frame its decision used`);
          const image = new Uint8Array(await (await server.api(step.frame)).arrayBuffer());
          const meta = await sharp(image).metadata();
          assert.deepEqual([meta.width, meta.height], [1280, 800], "a frame of the screen's size");
        }
        assert.ok(steps[1].output.clicked, "the click's point is logged");
      });

      await t.step("a text that is not there fails with condition-timeout after its timeout", async () => {
        const id = await submitDag(server, {
          name: "absent",
          nodes: [{
            id: "n",
            kind: "script",
            target: { device: "x11-ocr" },
            steps: [{ type: "waitFor", text: "Invoice overdue", timeoutMs: 2_000 }],
          }],
        });
        const view = await waitForDag(server, id, 30_000);
        assert.equal(view.state, "failed");
        const error = view.nodes[0].error as { message: string };
        assert.match(error.message, /not met in time: text "Invoice overdue" not on screen after 2000 ms/);
        const attempt = view.nodes[0].attempts[0];
        // Its own timeout, not the default, decides when it gives up: server/brain/steps_test.ts on a fake clock.
        const tookMs = attempt.endedAtMs! - attempt.startedAtMs!;
        assert.ok(tookMs >= 2000, `gave up after ${tookMs} ms, before the 2000 ms asked`);
      });
    } finally {
      try {
        dialog.kill();
      } catch {
        // Gone: clicked.
      }
      await dialog.status;
      await desk.stop();
    }
  },
);
