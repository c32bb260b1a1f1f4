import assert from "node:assert/strict";
import { HelperProcess } from "../../client/helper_process.ts";
import { startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const source = new URL("../../client/helper/", import.meta.url).pathname;

Deno.test("the client installs the helper's npm packages on first run, then uses it", live, async () => {
  const dir = await Deno.makeTempDir({ prefix: "alien3-helper-" });
  for await (const entry of Deno.readDir(source)) {
    if (entry.isFile && /\.js$|^package(-lock)?\.json$/.test(entry.name)) {
      await Deno.copyFile(`${source}/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  const x = await startXServer();
  const helper = new HelperProcess({ dir, env: { DISPLAY: x.display } });
  try {
    await assert.rejects(Deno.stat(`${dir}/node_modules`), "nothing installed yet");
    const screens = await helper.request<Array<{ width: number; height: number }>>("screens", {}, 60_000);
    assert.deepEqual(screens, [{ width: 1280, height: 800 }]);
    assert.ok((await Deno.stat(`${dir}/node_modules/robotjs`)).isDirectory);
  } finally {
    await helper.close();
    await x.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
