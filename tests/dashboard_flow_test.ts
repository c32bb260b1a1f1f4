/// <reference lib="dom" />
/**
 * The operator dashboard in real headless Chromium against the real server and real device clients: sign
 * in, see devices join live, submit the seed's three-node hand-off DAG from the Start page, watch its nodes
 * change colour until it succeeds, download its artifact, cancel a second DAG; screenshots of the devices and
 * DAG pages are saved as test artifacts and read back with OCR; nothing overflows at 1280×800 or on a phone.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { launchChromium } from "./helpers/chromium.ts";
import { startClient } from "./helpers/client_process.ts";
import {
  artifactsDir,
  horizontalOverflow,
  openDashboard,
  screenshot,
  signIn,
  waitFor,
} from "./helpers/dashboard.ts";
import { submitDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";
import { TesseractOcr } from "../server/brain/ocr.ts";
import { screenContains } from "../server/brain/text_match.ts";
import type { ScreenText } from "../server/brain/types.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** The text the server's own OCR engine reads in a screenshot (PNG), searchable with its matcher. */
async function ocrScreen(path: string): Promise<ScreenText> {
  const image = await Deno.readFile(path);
  const { width, height } = await pngSize(path);
  return await new TesseractOcr().read({
    format: "png",
    image,
    width,
    height,
    originalWidth: width,
    originalHeight: height,
    capturedAtMs: 0,
  });
}

/** Asserts every phrase is on the screenshot, as a `waitFor` step would find it. */
function assertShows(screen: ScreenText, phrases: string[]): void {
  const read = screen.words.map((word) => word.text).join(" ");
  for (const phrase of phrases) {
    assert.ok(screenContains(screen, phrase), `"${phrase}" in the screenshot's text:\n${read}`);
  }
}

/** Width and height of a PNG, from its IHDR. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], `${path} is a PNG`);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The fill the style sheet gives a graph node in `state` (read from a probe node in the page). */
async function fillOf(page: Page, state: string): Promise<string> {
  return await page.evaluate((s: string) => {
    const ns = "http://www.w3.org/2000/svg";
    const probe = document.createElementNS(ns, "svg");
    probe.setAttribute("class", "graph");
    const group = document.createElementNS(ns, "g");
    group.setAttribute("class", "node");
    group.setAttribute("data-state", s);
    const rect = document.createElementNS(ns, "rect");
    group.append(rect);
    probe.append(group);
    document.body.append(probe);
    const fill = getComputedStyle(rect).fill;
    probe.remove();
    return fill;
  }, state);
}

/** Starts recording every `data-state` a graph node shows, from its first drawing on. */
async function recordNodeStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (globalThis as unknown as { nodeStates: typeof seen }).nodeStates = seen;
    const note = (element: Element) => {
      const id = element.getAttribute("data-node")!;
      const state = element.getAttribute("data-state")!;
      const list = seen[id] ??= [];
      if (list.at(-1) !== state) list.push(state);
    };
    new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === "attributes" && (record.target as Element).matches("g.node")) {
          note(record.target as Element);
        }
        for (const added of record.addedNodes) {
          if (added instanceof Element) added.querySelectorAll("#graph g.node").forEach(note);
        }
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-state"],
    });
  });
}

Deno.test(
  "an operator signs in, sees devices join live, runs the hand-off DAG, downloads its artifact and cancels another",
  live,
  async (t) => {
    const server = await startTestServer();
    const chromium = await launchChromium();
    const downloads = await Deno.makeTempDir({ prefix: "alien3-downloads-" });
    const clients: Array<Awaited<ReturnType<typeof startClient>>> = [];
    try {
      const { page, errors, requests } = await openDashboard(chromium, `${server.url}/`);

      await t.step("sign in: the token goes into sessionStorage, never into the URL", async () => {
        await signIn(page, server.operatorToken);
        assert.equal(
          await page.evaluate(() => sessionStorage.getItem("alien3.operatorToken")),
          server.operatorToken,
        );
        assert.ok(!page.url().includes(server.operatorToken));
        await waitFor(page, () => document.querySelector("[data-empty]") !== null);
      });

      await t.step("two devices join and appear in the table without a reload", async () => {
        await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
        clients.push(
          await startClient(server.wsUrl, server.deviceKey, "device-a", { extraArgs: ["--allow-run"] }),
        );
        clients.push(
          await startClient(server.wsUrl, server.deviceKey, "device-b", { extraArgs: ["--allow-run"] }),
        );
        await waitFor(
          page,
          // The row comes with the device's event; its capabilities with the list fetched right after.
          () =>
            ["device-a", "device-b"].every((name) =>
              document.querySelector(`tr[data-device="${name}"][data-state="ready"] td[data-label="OS"]`)
                ?.textContent?.startsWith("linux")
            ),
        );
        assert.equal(
          await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument),
          true,
        );
        const row = await page.$eval(
          'tr[data-device="device-a"]',
          (tr) =>
            Object.fromEntries(
              [...tr.querySelectorAll("td")].map((td) => [td.dataset.label, td.textContent]),
            ),
        );
        assert.match(row.OS!, /^linux/);
        assert.equal(row.Input, "headless", "a client without a display has neither screen nor input");
        assert.match(row.RTT!, /ms|—/);
        assert.equal(row["Current node"], "idle");
        assert.equal(row.Media, "no capture");
      });

      await t.step("a screenshot of the devices page shows both devices (read back with OCR)", async () => {
        await waitFor(
          page,
          () => document.querySelectorAll('tr[data-device] td[data-label="RTT"]').length === 2,
        );
        const path = await screenshot(page, "dashboard-devices", false);
        assert.deepEqual(await pngSize(path), { width: 1280, height: 800 });
        assertShows(await ocrScreen(path), ["Devices", "device-a", "device-b", "ready", "CURRENT NODE"]);
        assert.equal(await horizontalOverflow(page), 0);
      });

      let dagId = "";
      await t.step(
        "the hand-off DAG is pasted on Start work, previewed as a graph, run, and its nodes change colour until it succeeds",
        async () => {
          await page.goto(`${server.url}/#/start`);
          await page.waitForSelector("#dag-json");
          const example = await Deno.readTextFile(new URL("../examples/handoff.json", import.meta.url));
          await page.$eval(
            "#dag-json",
            (area, text) => ((area as HTMLTextAreaElement).value = text as string),
            example,
          );
          await page.click("#preview-dag");
          await page.waitForSelector("#plan-preview:not([hidden]) g.node");
          const planned = await page.$$eval(
            "#plan-preview g.node",
            (nodes) => nodes.map((n) => n.getAttribute("data-node")),
          );
          assert.deepEqual(planned, ["download", "arrived", "upload"]);
          assert.equal(
            (await (await server.api("/api/dags")).json()).dags.length,
            0,
            "nothing runs before Run",
          );

          await recordNodeStates(page);
          await page.click("#run-plan");
          await waitFor(page, () => document.body.dataset.view === "dag");
          dagId = decodeURIComponent(new URL(page.url()).hash.replace("#/dags/", ""));
          await waitFor(page, () => document.body.dataset.dagState === "succeeded", 60_000);
          await waitFor(
            page,
            () =>
              [...document.querySelectorAll("#graph g.node")].every((n) =>
                n.getAttribute("data-state") === "succeeded"
              ),
          );

          const seen = await page.evaluate(() =>
            (globalThis as unknown as { nodeStates: Record<string, string[]> }).nodeStates
          );
          for (const node of ["download", "arrived", "upload"]) {
            const states = seen[node] ?? [];
            assert.equal(states.at(-1), "succeeded", `${node}: ${states}`);
            const fills = new Set(
              await Promise.all(states.map((s) => fillOf(page, s))),
            );
            assert.ok(fills.size >= 2, `${node} changed colour: ${states.join(" → ")}`);
          }
          assert.ok(seen.download.includes("running"), `download was seen running: ${seen.download}`);
          assert.equal(
            await page.$eval('#graph g.node[data-node="upload"] rect', (r) => getComputedStyle(r).fill),
            await fillOf(page, "succeeded"),
          );
          assert.notEqual(await fillOf(page, "succeeded"), await fillOf(page, "running"));
          const view = await (await server.api(`/api/dags/${dagId}`)).json();
          assert.equal(view.state, "succeeded");
        },
      );

      await t.step(
        "a node's panel shows its attempt, device, steps and the artifact it made; the download saves it",
        async () => {
          await page.click('#graph g.node[data-node="download"]');
          await page.waitForSelector('#node-panel[data-node="download"] #node-steps li');
          const panel = await page.$eval("#node-panel", (p) => p.textContent ?? "");
          assert.match(panel, /device-a/);
          assert.match(panel, /succeeded/);
          assert.equal(
            await page.$$eval("#node-panel #node-steps li", (items) => items.length),
            2,
          );
          assert.match(
            await page.$eval("#node-panel #node-steps", (s) => s.textContent ?? ""),
            /waitFor file="out\/report.txt"/,
          );

          const session = await page.createCDPSession();
          await session.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
          await page.click('#node-panel button[data-artifact="report"]');
          const file = `${downloads}/report`;
          await until(
            async () => await Deno.readTextFile(file).catch(() => null) === "quarterly report\n",
            "the artifact to be downloaded",
            15_000,
          );
          await session.detach();
        },
      );

      await t.step(
        "a screenshot of the DAG page shows the graph and the panel (read back with OCR)",
        async () => {
          const path = await screenshot(page, "dashboard-dag");
          assert.equal((await pngSize(path)).width, 1280);
          assertShows(await ocrScreen(path), [
            "download",
            "arrived",
            "upload",
            "Attempts",
            "Artifacts",
            "succeeded",
          ]);
          assert.equal(await page.$$eval("#graph path.edge", (edges) => edges.length), 2);
          assert.equal(await horizontalOverflow(page), 0);
        },
      );

      await t.step("a second DAG is cancelled from its page and shown cancelled", async () => {
        const second = await submitDag(server, {
          name: "long nap",
          nodes: [
            { id: "nap", kind: "server", op: { sleepMs: 600_000 } },
            {
              id: "after-nap",
              kind: "script",
              after: ["nap"],
              target: { device: "device-b" },
              steps: [{ type: "windows" }],
            },
          ],
        });
        await page.goto(`${server.url}/#/dags/${second}`);
        await waitFor(
          page,
          () => document.querySelector('#graph g.node[data-node="nap"][data-state="running"]') !== null,
        );
        await page.click("#cancel-dag");
        await page.waitForSelector("#cancel-dag.armed");
        await page.click("#cancel-dag");
        await waitFor(page, () => document.body.dataset.dagState === "cancelled");
        await waitFor(
          page,
          () =>
            [...document.querySelectorAll("#graph g.node")].every((n) =>
              n.getAttribute("data-state") === "cancelled"
            ),
        );
        assert.equal(await page.$("#cancel-dag"), null, "a cancelled DAG offers no Cancel");
        assert.equal((await (await server.api(`/api/dags/${second}`)).json()).state, "cancelled");

        await page.goto(`${server.url}/#/dags`);
        await waitFor(page, () => document.querySelectorAll("#dags-table tr[data-dag]").length === 2);
        const states = await page.$$eval(
          "#dags-table tr[data-dag]",
          (rows) => rows.map((r) => r.getAttribute("data-state")),
        );
        assert.deepEqual(states, ["cancelled", "succeeded"], "newest first");
      });

      await t.step("nothing overflows horizontally on a 390×844 phone screen", async () => {
        await page.setViewport({ width: 390, height: 844 });
        for (
          const [hash, ready] of [
            ["#/devices", "#devices-table"],
            [`#/dags/${dagId}`, "#graph g.node"],
            ["#/dags", "#dags-table"],
            ["#/start", "#dag-form"],
            ["#/keys", "#keys-table"],
            ["#/approvals", "#approvals [data-empty]"],
          ] as const
        ) {
          await page.goto(`${server.url}/${hash}`);
          await page.waitForSelector(ready);
          if (hash.startsWith("#/dags/")) {
            await page.click('#graph g.node[data-node="download"]');
            await page.waitForSelector("#node-panel #node-steps li");
          }
          assert.equal(await horizontalOverflow(page), 0, `${hash} overflows at 390 px`);
        }
        await page.goto(`${server.url}/#/devices`);
        await page.waitForSelector("#devices-table");
        await screenshot(page, "dashboard-devices-phone");
        await page.goto(`${server.url}/#/dags/${dagId}`);
        await page.waitForSelector("#graph g.node");
        await screenshot(page, "dashboard-dag-phone");
        await page.goto(`${server.url}/#/dags`);
        await page.waitForSelector("#dags-table");
        await screenshot(page, "dashboard-dags-phone");
      });

      assert.deepEqual(errors, [], "no script errors in the page");
      const elsewhere = requests.filter((url) =>
        !url.startsWith(`${server.url}/`) && !/^(blob|data):/.test(url)
      );
      assert.deepEqual(elsewhere, [], "every asset and call goes to the server itself");
      assert.ok(
        requests.includes(`${server.url}/dashboard.js`) && requests.includes(`${server.url}/dashboard.css`),
      );
      console.log(`screenshots in ${artifactsDir()}`);
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
      await chromium.close();
      await server.close();
      await Deno.remove(downloads, { recursive: true }).catch(() => {});
    }
  },
);
