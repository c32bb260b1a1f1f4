import assert from "node:assert/strict";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { startX11Desk } from "../helpers/x11_desk.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "examples/gui_text_flow.json runs as written on a real desktop: it opens a dialog, waits for its text by OCR, clicks its button by text, and the dialog is gone",
  live,
  async () => {
    const desk = await startX11Desk("device-a", { clientArgs: ["--allow-run"] });
    const { x, server } = desk;
    try {
      const example = JSON.parse(
        await Deno.readTextFile(new URL("../../examples/gui_text_flow.json", import.meta.url)),
      );
      const id = await submitDag(server, example);
      const view = await waitForDag(server, id, 120_000);
      assert.equal(view.state, "succeeded", JSON.stringify(view.nodes.map((n) => [n.id, n.state, n.error])));
      const steps = (await (await server.api(`/api/dags/${id}/nodes/proceed/steps`)).json()).steps;
      assert.deepEqual(steps.map((s: { type: string; ok: boolean }) => [s.type, s.ok]), [
        ["run", true],
        ["waitFor", true],
        ["clickText", true],
        ["waitFor", true],
      ]);
      assert.ok(steps[2].output.clicked, "the click's point is logged");
      // xdotool exits 1 when it finds no window: the dialog closed because its button was clicked.
      const search = await new Deno.Command("xdotool", {
        args: ["search", "--class", "Xmessage"],
        env: { DISPLAY: x.display },
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(search.code, 1, `no xmessage window left: ${new TextDecoder().decode(search.stdout)}`);
    } finally {
      await desk.stop();
    }
  },
);
