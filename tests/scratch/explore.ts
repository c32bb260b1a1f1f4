import { startTestServer } from "../helpers/server.ts";
import { startClient } from "../helpers/client_process.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { openDashboard, screenshot, signIn, waitFor } from "../helpers/dashboard.ts";
const server = await startTestServer();
const chromium = await launchChromium();
const a = await startClient(server.wsUrl, server.deviceKey, "device-a", { extraArgs: ["--allow-run"] });
const b = await startClient(server.wsUrl, server.deviceKey, "device-b", { extraArgs: ["--allow-run"] });
try {
  const { page, errors } = await openDashboard(chromium, server.url + "/");
  await signIn(page, server.operatorToken);
  await waitFor(page, () => document.querySelectorAll("tr[data-device]").length === 2);
  console.log(await screenshot(page, "x-devices"));
  const example = await Deno.readTextFile("/work/wt/dash/examples/handoff.json");
  const r = await server.api("/api/dags", { method: "POST", body: example });
  const { id } = await r.json();
  await page.goto(`${server.url}/#/dags/${id}`);
  await waitFor(page, () => document.body.dataset.dagState === "succeeded", 60000);
  await page.click('g.node[data-node="download"]');
  await new Promise((r) => setTimeout(r, 1500));
  console.log(await screenshot(page, "x-dag"));
  await page.setViewport({ width: 390, height: 844 });
  await new Promise((r) => setTimeout(r, 500));
  console.log(await screenshot(page, "x-dag-phone"));
  await page.goto(`${server.url}/#/devices`);
  await new Promise((r) => setTimeout(r, 1000));
  console.log(await screenshot(page, "x-devices-phone"));
  await page.goto(`${server.url}/#/devices/device-a`);
  await new Promise((r) => setTimeout(r, 1500));
  await page.setViewport({ width: 1280, height: 800 });
  console.log(await screenshot(page, "x-device"));
  console.log(errors);
} finally {
  await a.stop();
  await b.stop();
  await chromium.close();
  await server.close();
}
