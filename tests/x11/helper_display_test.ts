import assert from "node:assert/strict";
import { HelperProcess } from "../../client/helper_process.ts";
import { pointer, startXServer, type XServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test("the helper drives the display named by DISPLAY even when a display :0 exists", live, async () => {
  // robotjs on its own opens :0 whenever one exists. Hold :0 briefly, unless some X server already has it.
  const zero: XServer | null = await startXServer({ display: 0 }).catch((error) => {
    if (/the display is taken/.test(error.message)) return null;
    throw error;
  });
  const x = await startXServer();
  const helper = new HelperProcess({ env: { DISPLAY: x.display } });
  try {
    const probe = await new Deno.Command("xdotool", { args: ["getmouselocation"], env: { DISPLAY: ":0" } })
      .output();
    assert.equal(probe.code, 0, "a display :0 answers");
    await helper.request("move", { x: 321, y: 654 });
    assert.deepEqual(await pointer(x), { x: 321, y: 654 });
  } finally {
    await helper.close();
    await x.stop();
    await zero?.stop();
  }
});
