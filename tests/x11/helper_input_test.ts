import assert from "node:assert/strict";
import { HelperExecutor } from "../../client/executor.ts";
import { HelperProcess } from "../../client/helper_process.ts";
import { until } from "../helpers/gateway_harness.ts";
import { decodePng } from "../helpers/png.ts";
import { eventWindow, pointer, ROOT_COLOUR, startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test("injected input lands on a real X server, checked by independent observers", live, async (t) => {
  const x = await startXServer();
  const helper = new HelperProcess({ env: { DISPLAY: x.display } });
  const executor = new HelperExecutor(helper);
  try {
    await t.step("move lands where asked (xdotool getmouselocation)", async () => {
      const outcome = await executor.execute({ type: "move", x: 321, y: 654 });
      assert.ok(outcome.ok);
      assert.deepEqual(await pointer(x), { x: 321, y: 654 });
    });

    const xev = await eventWindow(x);
    try {
      await t.step(
        "clicks, double clicks and right clicks arrive as button events at the point",
        async () => {
          await executor.execute({ type: "click", x: 200, y: 150, button: "left", double: false });
          await executor.execute({ type: "click", x: 210, y: 160, button: "right", double: false });
          await executor.execute({ type: "click", x: 220, y: 170, button: "left", double: true });
          await until(() => (xev.events().match(/ButtonPress/g) ?? []).length >= 4, "button presses", 5000);
          const presses = [
            ...xev.events().matchAll(
              /ButtonPress event[\s\S]*?\(([-\d]+),([-\d]+)\), root:\((\d+),(\d+)\)[\s\S]*?button (\d)/g,
            ),
          ]
            .map((m) => [Number(m[3]), Number(m[4]), Number(m[5])]);
          assert.deepEqual(presses.slice(0, 4), [[200, 150, 1], [210, 160, 3], [220, 170, 1], [220, 170, 1]]);
        },
      );
      await t.step("typed ASCII and non-ASCII text arrives as key events", async () => {
        const from = xev.events().length;
        assert.ok((await executor.execute({ type: "type", text: "Hi" })).ok);
        assert.ok((await executor.execute({ type: "type", text: "é✓" })).ok);
        await until(() => xev.keyPresses(from).length >= 4, "four key presses", 5000);
        assert.deepEqual(xev.keyPresses(from), [
          { state: 0x1, keysym: "H" },
          { state: 0, keysym: "i" },
          { state: 0, keysym: "eacute" },
          { state: 0, keysym: "U2713" },
        ]);
      });
      await t.step(
        "text typed while the application is too busy to read arrives as the right keysyms later",
        async () => {
          // The application looks keysyms up only when it reads the events, after the call returned:
          // a keycode borrowed and given back at once would reach it as NoSymbol.
          const from = xev.events().length;
          xev.pause();
          try {
            assert.ok((await executor.execute({ type: "type", text: "É!Ωé✓\n" })).ok);
          } finally {
            xev.resume();
          }
          await until(() => xev.keyPresses(from).length >= 6, "six key presses", 5000);
          assert.deepEqual(xev.keyPresses(from), [
            { state: 0, keysym: "Eacute" },
            { state: 0x1, keysym: "exclam" },
            { state: 0, keysym: "U03A9" },
            { state: 0, keysym: "eacute" },
            { state: 0, keysym: "U2713" },
            { state: 0, keysym: "Return" },
          ]);
        },
      );
      await t.step("a key combination presses its modifiers", async () => {
        assert.ok((await executor.execute({ type: "key", keys: "ctrl+shift+t" })).ok);
        const combo = /state 0x5, keycode \d+ \(keysym 0x(54|74), [Tt]\)/;
        await until(
          () => combo.test(xev.events()),
          "t pressed with Control and Shift held (state 0x5)",
          5000,
        );
        assert.match(xev.events(), /keysym 0xffe3, Control_L/);
        assert.match(xev.events(), /keysym 0xffe1, Shift_L/);
      });
      await t.step("scroll down sends button 5, scroll up button 4", async () => {
        const before = (xev.events().match(/button 5/g) ?? []).length;
        await x.run("xdotool", ["mousemove", "250", "200"]);
        assert.ok((await executor.execute({ type: "scroll", dx: 0, dy: 2 })).ok);
        assert.ok((await executor.execute({ type: "scroll", dx: 0, dy: -1 })).ok);
        await until(() => (xev.events().match(/button 4/g) ?? []).length >= 1, "a scroll up", 5000);
        assert.ok((xev.events().match(/ButtonPress[\s\S]*?button 5/g) ?? []).length > before);
      });
    } finally {
      await xev.close();
    }

    await t.step("a captured frame has the screen's size and shows the root colour", async () => {
      await x.run("xdotool", ["mousemove", "1279", "799"]);
      const outcome = await executor.execute({ type: "frame", format: "png", scale: 1, quality: 80 });
      assert.ok(outcome.ok && outcome.frame);
      assert.deepEqual([outcome.frame.meta.width, outcome.frame.meta.height], [1280, 800]);
      const png = decodePng(outcome.frame.image);
      assert.deepEqual([png.width, png.height], [1280, 800]);
      assert.deepEqual(png.pixel(640, 400), [...ROOT_COLOUR.rgb]);
      const jpeg = await executor.execute({ type: "frame", format: "jpeg", scale: 0.5, quality: 70 });
      assert.ok(jpeg.ok && jpeg.frame);
      assert.deepEqual([jpeg.frame.meta.width, jpeg.frame.meta.originalWidth], [640, 1280]);
      assert.deepEqual([...jpeg.frame.image.subarray(0, 2)], [0xff, 0xd8], "JPEG magic");
    });

    await t.step("out-of-bounds coordinates, unknown keys and unknown apps are clear errors", async () => {
      const outside = await executor.execute({
        type: "click",
        x: 5000,
        y: 10,
        button: "left",
        double: false,
      });
      assert.ok(!outside.ok && outside.error.code === "out-of-bounds");
      const key = await executor.execute({ type: "key", keys: "ctrl+nosuchkey" });
      assert.ok(!key.ok && key.error.code === "unknown-key");
      assert.match(key.error.message, /nosuchkey/);
      const app = await executor.execute({ type: "launch", app: "No Such App 123" });
      assert.ok(!app.ok && app.error.code === "unknown-app");
      const bell = await executor.execute({ type: "type", text: "a\u0007" });
      assert.ok(!bell.ok && bell.error.code === "schema-violation");
      assert.match(bell.error.message, /U\+0007 is a control character/);
    });

    await t.step("a helper killed mid-run is restarted and the next action succeeds", async () => {
      const oldPid = helper.pid!;
      Deno.kill(oldPid, "SIGKILL");
      await until(() => helper.restarts === 1, "the restart to be noticed", 5000);
      const outcome = await executor.execute({ type: "move", x: 11, y: 22 });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.notEqual(helper.pid, oldPid);
      assert.deepEqual(await pointer(x), { x: 11, y: 22 });
    });
  } finally {
    await helper.close();
    await x.stop();
  }
});
