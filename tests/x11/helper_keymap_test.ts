import assert from "node:assert/strict";
import { HelperProcess } from "../../client/helper_process.ts";
import { FailureError } from "../../shared/protocol/mod.ts";
import { startXServer, type XServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Keycode → keysym names, as `xmodmap -pke` (an independent reader of the server's map) prints them. */
async function keymap(x: XServer): Promise<Map<number, string[]>> {
  const rows = new Map<number, string[]>();
  for (const line of (await x.run("xmodmap", ["-pke"])).split("\n")) {
    const match = /^keycode\s+(\d+) =(.*)$/.exec(line);
    if (match) rows.set(Number(match[1]), match[2].trim().split(/\s+/).filter((name) => name !== ""));
  }
  return rows;
}

/** The keycodes whose keysyms are exactly `name` (the pool fills every column with the same keysym). */
async function boundTo(x: XServer, name: string): Promise<number[]> {
  return [...await keymap(x)].filter(([, names]) => names.length > 0 && names.every((n) => n === name))
    .map(([keycode]) => keycode);
}

Deno.test(
  "the keysym pool keeps bindings across calls, evicts the least recently used, and restores the map on exit",
  live,
  async (t) => {
    const x = await startXServer();
    const spareBefore = [...await keymap(x)].filter(([, names]) => names.length === 0).map(([k]) => k);
    const helper = new HelperProcess({ env: { DISPLAY: x.display, ALIEN3_KEYSYM_POOL: "2" } });
    const type = (text: string) => helper.request("type", { text });
    try {
      let alpha = 0;
      await t.step("a keysym the map lacks stays bound to a spare keycode", async () => {
        await type("α");
        const keycodes = await boundTo(x, "U03B1");
        assert.equal(keycodes.length, 1);
        assert.ok(spareBefore.includes(keycodes[0]), `keycode ${keycodes[0]} was spare`);
        alpha = keycodes[0];
      });

      await t.step("the next call binds another keycode and leaves the first binding alone", async () => {
        await type("β");
        assert.deepEqual(await boundTo(x, "U03B1"), [alpha]);
        assert.equal((await boundTo(x, "U03B2")).length, 1);
        assert.notEqual((await boundTo(x, "U03B2"))[0], alpha);
      });

      await t.step("a full pool gives the least recently used keycode to the new keysym", async () => {
        const [beta] = await boundTo(x, "U03B2");
        await type("α"); // Reused: β is now the least recently used.
        assert.deepEqual(await boundTo(x, "U03B1"), [alpha]);
        await type("γ");
        assert.deepEqual(await boundTo(x, "U03B3"), [beta]);
        assert.deepEqual(await boundTo(x, "U03B2"), []);
        assert.deepEqual(await boundTo(x, "U03B1"), [alpha]);
      });

      await t.step("a text needing more keysyms than the pool holds is typed in runs", async () => {
        assert.deepEqual(await type("δεζη"), { characters: 4 });
        assert.equal((await boundTo(x, "U03B6")).length, 1);
        assert.equal((await boundTo(x, "U03B7")).length, 1);
        for (const name of ["U03B1", "U03B3", "U03B4", "U03B5"]) assert.deepEqual(await boundTo(x, name), []);
      });

      await t.step("a clean exit returns every keycode the pool used to NoSymbol", async () => {
        await helper.close();
        const spareAfter = [...await keymap(x)].filter(([, names]) => names.length === 0).map(([k]) => k);
        assert.deepEqual(spareAfter, spareBefore);
      });
    } finally {
      await helper.close();
      await x.stop();
    }
  },
);

Deno.test("a pool size that is not a whole number stops the helper with a clear error", live, async () => {
  const x = await startXServer();
  const helper = new HelperProcess({ env: { DISPLAY: x.display, ALIEN3_KEYSYM_POOL: "lots" } });
  try {
    const error = await helper.request("ping").then(() => null, (e) => e);
    assert.ok(error instanceof FailureError);
    assert.equal(error.failure.code, "schema-violation");
    assert.match(error.message, /ALIEN3_KEYSYM_POOL must be a whole number from 1 to 200, got "lots"/);
  } finally {
    await helper.close();
    await x.stop();
  }
});
