import assert from "node:assert/strict";
import { HelperExecutor } from "../../client/executor.ts";
import { HelperProcess } from "../../client/helper_process.ts";
import { TesseractOcr } from "../../server/brain/ocr.ts";
import { findText, screenContains, type TextMatch } from "../../server/brain/text_match.ts";
import type { Frame } from "../../server/brain/types.ts";
import { startXServer, type XServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A window's place on the screen, as `xdotool getwindowgeometry` (an independent observer) reports it. */
interface Geometry {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Opens the xmessage window and resolves with its geometry once it is mapped; `exited` is its exit code
 * (101 when the Proceed button is pressed).
 */
async function openMessage(
  x: XServer,
): Promise<{ geometry: Geometry; exited: Promise<number>; close(): Promise<void> }> {
  const child = new Deno.Command("xmessage", {
    args: ["-center", "-fn", "10x20", "-buttons", "Proceed", "-name", "alien3-ocr", "Quarterly report ready"],
    env: { DISPLAY: x.display },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Gone.
    }
    await child.status;
  };
  try {
    const deadline = Date.now() + 10_000;
    let text = "";
    while (!/Geometry/.test(text)) {
      if (Date.now() > deadline) {
        throw new Error("Cannot open the xmessage window: it was not mapped within 10 s");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await x.run("xdotool", ["search", "--onlyvisible", "--name", "alien3-ocr", "getwindowgeometry"])
        .catch(() => "");
    }
    const [, left, top] = /Position: (\d+),(\d+)/.exec(text)!.map(Number);
    const [, width, height] = /Geometry: (\d+)x(\d+)/.exec(text)!.map(Number);
    const exited = child.status.then((status) => status.code);
    return { geometry: { x: left, y: top, width, height }, exited, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function inside(point: { x: number; y: number }, box: Geometry): boolean {
  return point.x >= box.x && point.x < box.x + box.width && point.y >= box.y && point.y < box.y + box.height;
}

function contains(outer: Geometry, inner: Geometry): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height;
}

Deno.test(
  "OCR reads a real xmessage window's label and button at full and half scale, boxes in device pixels",
  live,
  async (t) => {
    const x = await startXServer();
    const helper = new HelperProcess({ env: { DISPLAY: x.display } });
    const executor = new HelperExecutor(helper);
    const engine = new TesseractOcr();
    const message = await openMessage(x).catch(async (error) => {
      await x.stop();
      throw error;
    });
    try {
      const window = message.geometry;
      const capture = async (scale: number, quality: number): Promise<Frame> => {
        const outcome = await executor.execute({ type: "frame", format: "jpeg", scale, quality });
        assert.ok(outcome.ok && outcome.frame, JSON.stringify(outcome));
        return { ...outcome.frame.meta, image: outcome.frame.image };
      };
      const check = (label: TextMatch[], button: TextMatch[], seen: string) => {
        assert.equal(label.length, 1, `one "Quarterly report ready" in: ${seen}`);
        assert.equal(button.length, 1, `one "Proceed" in: ${seen}`);
        assert.ok(contains(window, label[0].box), `label ${JSON.stringify(label[0].box)} in the window`);
        assert.ok(contains(window, button[0].box), `button ${JSON.stringify(button[0].box)} in the window`);
        assert.ok(inside(button[0].centre, window), "the Proceed centre is inside the window");
        // xmessage puts its buttons below the label, in the window's lower part.
        assert.ok(button[0].centre.y > label[0].centre.y, "the button is below the label");
        assert.ok(
          button[0].centre.y > window.y + window.height / 2,
          "the button is in the window's lower half",
        );
        assert.ok(label[0].box.width > button[0].box.width, "the three-word label is wider than the button");
      };

      await t.step("a full-size JPEG frame (scale 1, quality 80)", async () => {
        const frame = await capture(1, 80);
        assert.deepEqual([frame.width, frame.originalWidth], [1280, 1280]);
        const text = await engine.read(frame);
        const seen = text.words.map((word) => word.text).join(" ");
        assert.deepEqual([text.width, text.height], [1280, 800]);
        assert.match(text.engine, /^tesseract \d/);
        check(findText(text, "Quarterly report ready"), findText(text, "Proceed"), seen);
        assert.equal(screenContains(text, "quarterly REPORT ready"), true);
        assert.equal(screenContains(text, "Quarterly report failed"), false);
      });

      await t.step("a half-size JPEG frame (scale 0.5, quality 90) maps boxes to device pixels", async () => {
        // At quality 80 half size, Tesseract reads the label's first word glued to the scrollbar stipple
        // beside it ("Houorterly"); see README "Screen text (OCR)".
        const frame = await capture(0.5, 90);
        assert.deepEqual([frame.width, frame.originalWidth], [640, 1280]);
        const text = await engine.read(frame);
        assert.deepEqual([text.width, text.height], [1280, 800]);
        check(
          findText(text, "Quarterly report ready"),
          findText(text, "Proceed"),
          text.words.map((word) => word.text).join(" "),
        );
      });

      await t.step(
        "a click at the Proceed centre presses the real button: xmessage exits with 101",
        async () => {
          const text = await engine.read(await capture(1, 80));
          const [proceed] = findText(text, "Proceed");
          const outcome = await executor.execute({
            type: "click",
            x: proceed.centre.x,
            y: proceed.centre.y,
            button: "left",
            double: false,
          });
          assert.ok(outcome.ok, JSON.stringify(outcome));
          assert.equal(await message.exited, 101, "xmessage's exit code for its first button");
        },
      );
    } finally {
      await message.close();
      await helper.close();
      await x.stop();
    }
  },
);
