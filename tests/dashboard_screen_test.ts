/// <reference lib="dom" />
/**
 * A Deno device's live screen on its dashboard page: a real client on a real X display (Xvnc, root painted a
 * known colour), its frames fetched again and again with the token and shown from `blob:` URLs, and its
 * recent actions listed as they happen.
 */
import assert from "node:assert/strict";
import { launchChromium } from "./helpers/chromium.ts";
import { startClient } from "./helpers/client_process.ts";
import { openDashboard, signIn, waitFor } from "./helpers/dashboard.ts";
import { submitDag } from "./helpers/dags.ts";
import { startTestServer } from "./helpers/server.ts";
import { ROOT_COLOUR, startXServer } from "./helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "a Deno device's page shows its screen as refreshing frames and its actions as they run; a step's frame shows in its node's panel",
  live,
  async () => {
    const x = await startXServer();
    const server = await startTestServer();
    const chromium = await launchChromium();
    const dataHome = await Deno.makeTempDir({ prefix: "alien3-xdg-" });
    const client = await startClient(server.wsUrl, server.deviceKey, "desk", {
      env: { DISPLAY: x.display, XDG_DATA_HOME: dataHome },
    });
    try {
      const { page, errors } = await openDashboard(chromium, `${server.url}/`);
      await signIn(page, server.operatorToken);
      await waitFor(
        page,
        () =>
          document.querySelector('tr[data-device="desk"] td[data-label="Input"]')?.textContent === "input",
      );
      await page.goto(`${server.url}/#/devices/desk`);
      await waitFor(
        page,
        () => Number(document.querySelector("#screen")?.getAttribute("data-frames") ?? 0) >= 3,
        30_000,
      );
      assert.equal(
        await page.$eval("#screen", (e) => e.getAttribute("data-screen")),
        "frames",
      );
      assert.ok(
        !(await page.$eval("#screen-frame", (img) => (img as HTMLImageElement).src)).includes(
          server.operatorToken,
        ),
      );
      // The picture is the X screen: 1280 px wide, the root's colour in the middle.
      await waitFor(page, () => (document.querySelector("#screen-frame") as HTMLImageElement)?.complete);
      const sample = await page.$eval("#screen-frame", (element) => {
        const img = element as HTMLImageElement;
        const canvas = document.createElement("canvas");
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const context = canvas.getContext("2d")!;
        context.drawImage(img, 0, 0);
        return {
          width: img.naturalWidth,
          pixel: [...context.getImageData(img.naturalWidth / 2, img.naturalHeight / 2, 1, 1).data],
        };
      });
      assert.equal(sample.width, 1280);
      sample.pixel.slice(0, 3).forEach((value, i) =>
        assert.ok(
          Math.abs(value - ROOT_COLOUR.rgb[i]) <= 12,
          `pixel ${sample.pixel} against ${ROOT_COLOUR.rgb}`,
        )
      );

      const id = await submitDag(server, {
        name: "move",
        nodes: [{
          id: "nudge",
          kind: "script",
          target: { device: "desk" },
          steps: [{ type: "move", x: 10, y: 20 }],
        }],
      });
      await waitFor(
        page,
        () => document.querySelector("#device-actions li code")?.textContent === "move x=10 y=20",
      );
      assert.match(
        await page.$eval("#device-actions li a.step-node", (a) => a.getAttribute("href") ?? ""),
        new RegExp(`#/dags/${id}$`),
      );

      // The Brain's steps with the frame each used, in the node's panel on the DAG page.
      const looked = await submitDag(server, {
        name: "look",
        nodes: [{
          id: "look",
          kind: "script",
          target: { device: "desk" },
          steps: [{ type: "frame", format: "png" }],
        }],
      });
      await page.goto(`${server.url}/#/dags/${looked}`);
      await waitFor(page, () => document.body.dataset.dagState === "succeeded");
      await page.click('#graph g.node[data-node="look"]');
      await waitFor(page, () => {
        const img = document.querySelector("#node-steps img.step-frame") as HTMLImageElement | null;
        return img !== null && img.complete && img.naturalWidth === 1280;
      });
      assert.deepEqual(errors, []);
    } finally {
      await client.stop();
      await chromium.close();
      await server.close();
      await x.stop();
      await Deno.remove(dataHome, { recursive: true }).catch(() => {});
    }
  },
);
