/// <reference lib="dom" />
/**
 * The dashboard's live parts in real Chromium against the real server: a browser device's relayed video on
 * its device page, the offline banner while the server is down and the feed's return by itself, actions
 * held at a confirmation gate approved and rejected from a DAG's page, and the planner's plan shown before
 * it runs (the model is a local chat-completions server, the one double the project accepts).
 */
import assert from "node:assert/strict";
import { evaluateAsUser, launchChromium, waitForBodyData } from "./helpers/chromium.ts";
import { type ClientProcess, startClient } from "./helpers/client_process.ts";
import { startChatServer } from "./helpers/chat_server.ts";
import { openDashboard, signIn, waitFor } from "./helpers/dashboard.ts";
import { submitDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { freePort } from "./helpers/ports.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "a browser device's page plays its relayed video and closes the viewer when left",
  live,
  async () => {
    const server = await startTestServer();
    const chromium = await launchChromium();
    try {
      const sharer = await chromium.open(
        `${server.url}/device#key=${encodeURIComponent(server.deviceKey)}&name=web-live`,
      );
      await evaluateAsUser(sharer, `document.getElementById("share").click()`);
      await waitForBodyData(sharer, "state", "ready");

      const { page, errors } = await openDashboard(chromium, `${server.url}/`);
      await signIn(page, server.operatorToken);
      await waitFor(
        page,
        () =>
          document.querySelector('tr[data-device="web-live"] td[data-label="Input"]')?.textContent ===
            "screen only",
      );
      assert.match(
        await page.$eval('tr[data-device="web-live"] td[data-label="Tags"]', (e) => e.textContent ?? ""),
        /browser/,
      );

      await page.click('tr[data-device="web-live"] a.device-link');
      await waitFor(
        page,
        () => document.querySelector('#screen[data-screen="video"][data-live="true"]') !== null,
        30_000,
      );
      const size = await page.$eval(
        "#screen-video",
        (v) => [(v as HTMLVideoElement).videoWidth, (v as HTMLVideoElement).videoHeight],
      );
      assert.ok(size[0] > 0 && size[1] > 0, `video ${size}`);
      const viewing = await (await server.api("/api/devices/web-live")).json();
      assert.equal(viewing.media.video.viewers, 1);

      // The server closes the page's viewer: the page opens a new one by itself and plays again.
      const firstViewer = await page.$eval("#screen", (e) => (e as HTMLElement).dataset.viewerId ?? "");
      assert.ok(firstViewer !== "", "the screen names its viewer");
      const closed = await server.api(
        `/api/devices/${encodeURIComponent(viewing.id)}/viewer/${encodeURIComponent(firstViewer)}`,
        { method: "DELETE" },
      );
      assert.equal(closed.status, 204);
      await waitFor(
        page,
        (before: string) => {
          const screen = document.querySelector<HTMLElement>("#screen");
          return screen?.dataset.live === "true" && screen.dataset.viewerId !== before;
        },
        40_000,
        firstViewer,
      );
      assert.equal((await (await server.api("/api/devices/web-live")).json()).media.video.viewers, 1);

      await page.click('a[data-nav="dags"]');
      await until(
        async () => (await (await server.api("/api/devices/web-live")).json()).media.video.viewers === 0,
        "the viewer to be closed when the page was left",
        10_000,
      );
      assert.deepEqual(errors, []);
    } finally {
      await chromium.close();
      await server.close();
    }
  },
);

Deno.test(
  "the dashboard shows the server offline and reconnects by itself when it returns",
  live,
  async () => {
    const port = freePort();
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-dash-restart-" });
    let server = await startTestServer(["--port", String(port)], dataDir);
    const token = server.operatorToken;
    const chromium = await launchChromium();
    let client: ClientProcess | null = null;
    try {
      const { page } = await openDashboard(chromium, `${server.url}/`);
      await signIn(page, token);
      assert.equal(await page.$eval("#offline-banner", (b) => (b as HTMLElement).hidden), true);

      await server.close();
      await waitFor(page, () => document.body.dataset.server === "offline");
      assert.equal(await page.$eval("#offline-banner", (b) => (b as HTMLElement).hidden), false);
      assert.match(await page.$eval("#offline-banner", (b) => b.textContent ?? ""), /reconnecting/);

      server = await startTestServer(["--port", String(port)], dataDir);
      await waitFor(page, () => document.body.dataset.server === "online", 20_000);
      assert.equal(await page.$eval("#offline-banner", (b) => (b as HTMLElement).hidden), true);
      assert.equal(await page.evaluate(() => document.body.dataset.view), "devices", "still signed in");
      // The feed is really back: a device joining now appears without a reload.
      client = await startClient(server.wsUrl, server.deviceKey, "after-restart");
      await waitFor(
        page,
        () => document.querySelector('tr[data-device="after-restart"][data-state="ready"]') !== null,
      );
    } finally {
      await (client as ClientProcess | null)?.stop();
      await chromium.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "actions held at the confirmation gate are approved and rejected from the DAG's page",
  live,
  async (t) => {
    const server = await startTestServer();
    const chromium = await launchChromium();
    const client = await startClient(server.wsUrl, server.deviceKey, "gated", { extraArgs: ["--allow-run"] });
    const gatedDag = (name: string) => ({
      name,
      nodes: [{
        id: "write",
        kind: "script",
        approval: "each-action",
        target: { device: "gated" },
        steps: [{ type: "run", command: "sh", args: ["-c", `echo ${name} > ${name}.txt`] }],
      }],
    });
    try {
      const { page, errors } = await openDashboard(chromium, `${server.url}/`);
      await signIn(page, server.operatorToken);
      await waitFor(
        page,
        () => document.querySelector('tr[data-device="gated"][data-state="ready"]') !== null,
      );

      await t.step("approved: the held run step goes on and the node succeeds", async () => {
        const id = await submitDag(server, gatedDag("approved"));
        await page.goto(`${server.url}/#/dags/${id}`);
        await page.waitForSelector("#dag-approvals [data-approval] button.approve");
        assert.match(await page.$eval("#dag-approvals", (e) => e.textContent ?? ""), /run command="sh"/);
        await waitFor(page, () => document.querySelector("#approval-count")?.textContent === "1");
        await page.click("#dag-approvals button.approve");
        await waitFor(page, () => document.body.dataset.dagState === "succeeded");
        await waitFor(page, () => document.querySelector("#dag-approvals [data-approval]") === null);
        assert.equal(await Deno.readTextFile(`${client.filesDir}/approved.txt`), "approved\n");
      });

      await t.step("rejected: the node fails with rejected-by-operator, shown in its panel", async () => {
        const id = await submitDag(server, gatedDag("rejected"));
        await page.goto(`${server.url}/#/dags/${id}`);
        await page.waitForSelector("#dag-approvals button.reject");
        await page.type("#dag-approvals input.reason", "not today");
        await page.click("#dag-approvals button.reject");
        await waitFor(page, () => document.body.dataset.dagState === "failed");
        await page.click('#graph g.node[data-node="write"]');
        await waitFor(
          page,
          () =>
            document.querySelector("#node-panel #node-steps li code.code")?.textContent ===
              "rejected-by-operator",
        );
        await page.waitForSelector('#node-error[data-code="rejected-by-operator"]');
        await assert.rejects(Deno.stat(`${client.filesDir}/rejected.txt`), Deno.errors.NotFound);
      });
      assert.deepEqual(errors, []);
    } finally {
      await client.stop();
      await chromium.close();
      await server.close();
    }
  },
);

Deno.test(
  "a request is planned, the plan is shown before anything runs, and Run starts it",
  live,
  async () => {
    const chat = startChatServer(() => ({
      toolCalls: [{
        name: "submit_plan",
        arguments: {
          dag: {
            name: "note on a runner",
            nodes: [
              {
                id: "write-note",
                kind: "script",
                target: { run: true },
                steps: [{ type: "run", command: "sh", args: ["-c", "echo planned > note.txt"] }],
              },
              {
                id: "check-note",
                kind: "script",
                after: ["write-note"],
                target: { run: true },
                steps: [{ type: "fileInfo", path: "note.txt" }],
              },
            ],
          },
        },
      }],
    }));
    const server = await startTestServer(["--llm-base-url", chat.baseUrl, "--llm-model", "test-model"]);
    const chromium = await launchChromium();
    const client = await startClient(server.wsUrl, server.deviceKey, "runner", {
      extraArgs: ["--allow-run"],
    });
    try {
      const { page, errors } = await openDashboard(chromium, `${server.url}/`);
      await signIn(page, server.operatorToken);
      await waitFor(
        page,
        () => document.querySelector('tr[data-device="runner"][data-state="ready"]') !== null,
      );
      await page.goto(`${server.url}/#/start`);
      await page.type("#request", "write a note on a machine that runs programs, then check it");
      await page.click("#plan");
      await page.waitForSelector("#plan-preview:not([hidden]) g.node");
      assert.deepEqual(
        await page.$$eval("#plan-preview g.node", (nodes) => nodes.map((n) => n.getAttribute("data-node"))),
        ["write-note", "check-note"],
      );
      assert.equal(chat.requests.length, 1);
      assert.deepEqual((await (await server.api("/api/dags")).json()).dags, [], "a dry run submits nothing");

      await page.click("#run-plan");
      await waitFor(page, () => document.body.dataset.view === "dag");
      await waitFor(page, () => document.body.dataset.dagState === "succeeded", 30_000);
      assert.equal(await Deno.readTextFile(`${client.filesDir}/note.txt`), "planned\n");
      assert.equal(chat.requests.length, 1, "Run submits the plan that was shown, without planning again");
      assert.deepEqual(errors, []);
    } finally {
      await client.stop();
      await chromium.close();
      await server.close();
      await chat.close();
    }
  },
);
