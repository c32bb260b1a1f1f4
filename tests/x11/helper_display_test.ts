import assert from "node:assert/strict";
import { HelperProcess } from "../../client/helper_process.ts";
import { pointer, startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test("the helper drives the display named by DISPLAY even when a display :0 exists", live, async () => {
  // Each server takes the lowest free number, so after the first one a display :0 exists (the first,
  // or someone else's), and the second is not :0.
  const first = await startXServer();
  const second = await startXServer();
  const helper = new HelperProcess({ env: { DISPLAY: second.display } });
  try {
    assert.notEqual(second.display, ":0");
    await helper.request("move", { x: 321, y: 654 });
    assert.deepEqual(await pointer(second), { x: 321, y: 654 });
  } finally {
    await helper.close();
    await second.stop();
    await first.stop();
  }
});
