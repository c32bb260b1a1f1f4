import assert from "node:assert/strict";
import sharp from "sharp";
import { a3Env, runA3 } from "../helpers/a3.ts";
import { decodePng } from "../helpers/png.ts";
import { startX11Desk } from "../helpers/x11_desk.ts";
import { pointer, ROOT_COLOUR } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "operator CLI on a real X display: act moves the real pointer, frame writes real images",
  live,
  async (t) => {
    const desk = await startX11Desk("x11-cli");
    const { x, server } = desk;
    const work = await Deno.makeTempDir({ prefix: "alien3-a3-x11-" });
    const env = a3Env(`${work}/config`, { ALIEN3_SERVER: server.url, ALIEN3_TOKEN: server.operatorToken });
    try {
      await t.step("act DEVICE move 100 200 puts the real pointer there (xdotool sees it)", async () => {
        const out = await runA3(["act", "x11-cli", "move", "100", "200"], env);
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout, /^move on x11-cli: ok \([\d.]+ms, action [0-9a-f-]{36}\)$/m);
        assert.deepEqual(await pointer(x), { x: 100, y: 200 });
        const click = await runA3(["act", "x11-cli", "click", "300", "310", "--button", "left"], env);
        assert.equal(click.code, 0, click.stderr);
        assert.deepEqual(await pointer(x), { x: 300, y: 310 });
      });

      await t.step(
        "act with a point off the screen prints the device's out-of-bounds and exits 1",
        async () => {
          const out = await runA3(["act", "x11-cli", "move", "4000", "1"], env);
          assert.equal(out.code, 1);
          assert.match(out.stderr, /^error: .*\(out-of-bounds, HTTP 422\)$/m);
        },
      );

      await t.step("frame -o shot.png writes a PNG of the screen showing the root colour", async () => {
        await runA3(["act", "x11-cli", "move", "1279", "799"], env);
        const out = await runA3(["frame", "x11-cli", "-o", `${work}/shot.png`], env);
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout, /^Wrote .*shot\.png: 1280x800 png, \d+ bytes, captured [\d:.]+\.$/m);
        const png = decodePng(await Deno.readFile(`${work}/shot.png`));
        assert.deepEqual([png.width, png.height], [1280, 800]);
        assert.deepEqual(png.pixel(10, 700), [...ROOT_COLOUR.rgb]);
      });

      await t.step("frame -o shot.jpg --scale 0.5 writes a JPEG that decodes at half size", async () => {
        const out = await runA3(["frame", "x11-cli", "-o", `${work}/shot.jpg`, "--scale", "0.5"], env);
        assert.equal(out.code, 0, out.stderr);
        const meta = await sharp(await Deno.readFile(`${work}/shot.jpg`)).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 640, 400]);
      });

      await t.step(
        "act wait-for --text and click-text: the server looks (real OCR) and clicks the real button",
        async () => {
          const dialog = new Deno.Command("xmessage", {
            args: ["-center", "-fn", "10x20", "-buttons", "Proceed", "Quarterly report ready"],
            env: { DISPLAY: x.display },
            stdout: "null",
            stderr: "null",
          }).spawn();
          try {
            const seen = await runA3(
              ["act", "x11-cli", "wait-for", "--text", "quarterly report", "--timeout-ms", "10000", "--json"],
              env,
            );
            assert.equal(seen.code, 0, seen.stderr);
            const clicked = await runA3(["act", "x11-cli", "click-text", "Proceed", "--json"], env);
            assert.equal(clicked.code, 0, clicked.stderr);
            const answer = JSON.parse(clicked.stdout);
            assert.equal(answer.output.match.text, "Proceed");
            assert.equal((await dialog.status).code, 101, "xmessage exits with its button's code");
            const gone = await runA3(["act", "x11-cli", "click-text", "Proceed", "--timeout-ms", "0"], env);
            assert.equal(gone.code, 1);
            assert.match(gone.stderr, /text-not-found/);
          } finally {
            try {
              dialog.kill();
            } catch {
              // Already exited.
            }
            await dialog.status;
          }
        },
      );
    } finally {
      await desk.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);
