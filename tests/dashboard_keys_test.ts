/// <reference lib="dom" />
/**
 * Sign-in and keys in the dashboard, in real Chromium against the real server: a wrong token and a device
 * key are refused with their codes; a device key created on the Keys page comes with the exact command
 * that joins a device, and that command (run as a real client) joins; revoking the key removes it from the
 * list and drops its device, live; a revoked operator token signs its own page out.
 */
import assert from "node:assert/strict";
import { launchChromium } from "./helpers/chromium.ts";
import { type ClientProcess, startClient } from "./helpers/client_process.ts";
import { openDashboard, signIn, submitToken, waitFor } from "./helpers/dashboard.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "the dashboard refuses bad tokens, creates a key whose command joins a device, and revokes it",
  live,
  async (t) => {
    const server = await startTestServer();
    const chromium = await launchChromium();
    let client: ClientProcess | null = null;
    try {
      const { page, errors } = await openDashboard(chromium, `${server.url}/`);

      await t.step("a wrong token is refused with its code and nothing is stored", async () => {
        await submitToken(page, "a3o_not-a-real-token");
        await page.waitForSelector("#signin-error");
        assert.equal(await page.$eval("#signin-error", (e) => e.getAttribute("data-code")), "unauthorized");
        assert.equal(await page.evaluate(() => document.body.dataset.view), "signin");
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      });

      await t.step("a device key is refused as the wrong scope", async () => {
        await submitToken(page, server.deviceKey);
        await waitFor(
          page,
          () => document.querySelector("#signin-error")?.getAttribute("data-code") === "wrong-scope",
        );
        assert.match(
          await page.$eval("#signin-error", (e) => e.textContent ?? ""),
          /device key cannot use operator routes/,
        );
      });

      let command = "";
      await t.step(
        "a device key bound to lab-3 is created and shown once with the exact client command",
        async () => {
          await signIn(page, server.operatorToken);
          await page.goto(`${server.url}/#/keys`);
          await page.waitForSelector("#keys-table");
          await page.select("#key-scope", "device");
          await page.type("#key-name", "lab key");
          await page.type("#key-device", "lab-3");
          await page.click("#create-key");
          await page.waitForSelector("#client-command");
          command = await page.$eval("#client-command", (e) => e.textContent ?? "");
          const secret = await page.$eval("#new-secret", (e) => e.textContent ?? "");
          assert.match(secret, /^a3d_/);
          assert.equal(
            command,
            `deno task client --connect ws://127.0.0.1:${server.port} --key ${secret} --name lab-3 ` +
              "--files-dir ~/.local/share/alien3/files",
          );
          assert.match(
            await page.$eval("#browser-link", (e) => e.textContent ?? ""),
            /\/device#key=a3d_.*&name=lab-3$/,
          );
          await waitFor(page, () => document.querySelector('#keys-table tr[data-name="lab key"]') !== null);
        },
      );

      await t.step("that command's server, key and name join a real device, which appears live", async () => {
        const [, url, key, name] = /--connect (\S+) --key (\S+) --name (\S+)/.exec(command)!;
        client = await startClient(url, key, name);
        await page.goto(`${server.url}/#/devices`);
        await waitFor(
          page,
          () => document.querySelector('tr[data-device="lab-3"][data-state="ready"]') !== null,
        );
      });

      await t.step("revoking the key removes it from the list, and its device drops", async () => {
        await page.goto(`${server.url}/#/keys`);
        await page.waitForSelector('#keys-table tr[data-name="lab key"] button.revoke');
        await page.click('#keys-table tr[data-name="lab key"] button.revoke');
        await page.waitForSelector('#keys-table tr[data-name="lab key"] button.revoke.armed');
        await page.click('#keys-table tr[data-name="lab key"] button.revoke');
        await waitFor(page, () => document.querySelector('#keys-table tr[data-name="lab key"]') === null);
        assert.ok(await page.$('#keys-table tr[data-name="test-operator"]'), "other keys stay listed");
        await page.click("#show-revoked");
        await page.waitForSelector('#keys-table tr[data-name="lab key"][data-revoked="true"]');

        await page.goto(`${server.url}/#/devices`);
        await waitFor(
          page,
          () => document.querySelector('tr[data-device="lab-3"][data-state="offline"]') !== null,
        );
        const keys = (await (await server.api("/api/keys")).json()).keys as Array<
          { name: string; revokedAt: number | null }
        >;
        assert.notEqual(keys.find((k) => k.name === "lab key")?.revokedAt, null);
      });

      await t.step("a revoked operator token signs its page out with the reason", async () => {
        const second = await (await server.api("/api/keys", {
          method: "POST",
          body: JSON.stringify({ scope: "operator", name: "second operator" }),
        })).json();
        const other = await openDashboard(chromium, `${server.url}/`);
        await signIn(other.page, second.secret);
        await server.api(`/api/keys/${second.id}`, { method: "DELETE" });
        await waitFor(other.page, () => document.body.dataset.view === "signin");
        await other.page.waitForSelector("#signin-error");
        assert.equal(
          await other.page.$eval("#signin-error", (e) => e.getAttribute("data-code")),
          "unauthorized",
        );
        assert.equal(await other.page.evaluate(() => sessionStorage.length), 0);
        assert.deepEqual(other.errors, []);
      });

      assert.deepEqual(errors, []);
    } finally {
      await (client as ClientProcess | null)?.stop();
      await chromium.close();
      await server.close();
    }
  },
);
