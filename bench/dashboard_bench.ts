/**
 * The dashboard's cost: its bundle (minified and gzipped, built exactly as the server builds it), and the
 * time from navigation to the devices table drawn with 100 devices (real server, 100 simulated devices in
 * a separate process, headless Chromium; the token is already in sessionStorage, as after sign-in).
 * Figures from one run on this machine; nothing here is asserted.
 */
import { gzipSync } from "node:zlib";
import { buildBundle } from "../server/http/web_bundle.ts";
import { launchChromium } from "../tests/helpers/chromium.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { LineReader } from "./line_process.ts";

const DEVICES = 100;
const RUNS = 7;

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// 1. Sizes.
const out = await Deno.makeTempDir({ prefix: "alien3-bench-web-" });
const buildStarted = performance.now();
const bundlePath = await buildBundle("dashboard", out);
const buildMs = performance.now() - buildStarted;
const bundle = await Deno.readFile(bundlePath);
const css = await Deno.readFile(new URL("../web/dashboard.css", import.meta.url));
const html = await Deno.readFile(new URL("../web/dashboard.html", import.meta.url));
const gz = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).byteLength;
console.log("| asset | bytes | gzipped |");
console.log("| --- | ---: | ---: |");
console.log(`| dashboard.js (minified) | ${kb(bundle.byteLength)} | ${kb(gz(bundle))} |`);
console.log(`| dashboard.css | ${kb(css.byteLength)} | ${kb(gz(css))} |`);
console.log(`| dashboard.html | ${kb(html.byteLength)} | ${kb(gz(html))} |`);
console.log(`bundle built in ${buildMs.toFixed(0)} ms (deno bundle --platform browser --minify)`);
await Deno.remove(out, { recursive: true });

// 2. First render of the devices page with 100 devices.
const server = await startTestServer();
const sim = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("./sim_devices.ts", import.meta.url).pathname,
    server.wsUrl,
    server.deviceKey,
    String(DEVICES),
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
await new LineReader(sim.stdout).until("ready");
const chromium = await launchChromium();
try {
  const listed = (await (await server.api("/api/devices")).json()).devices.length;
  if (listed !== DEVICES) throw new Error(`${listed} devices listed, expected ${DEVICES}`);
  // The server builds the bundle on the first request: warm it, as any running server is.
  const coldStarted = performance.now();
  await (await fetch(`${server.url}/dashboard.js`)).arrayBuffer();
  console.log(
    `first GET /dashboard.js on a fresh server (cache in the data dir): ${
      (performance.now() - coldStarted).toFixed(0)
    } ms`,
  );

  const firstRender: number[] = [];
  const loaded: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.evaluateOnNewDocument(
      (token: string) => sessionStorage.setItem("alien3.operatorToken", token),
      server.operatorToken,
    );
    await page.goto(`${server.url}/#/devices`, { waitUntil: "load" });
    await page.waitForFunction((n: number) => document.body.dataset.devicesRendered === String(n), {
      timeout: 30_000,
      polling: 10,
    }, DEVICES);
    const timing = await page.evaluate(() => ({
      rendered: performance.getEntriesByName("devices-rendered")[0].startTime,
      load: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd,
    }));
    firstRender.push(timing.rendered);
    loaded.push(timing.load);
    await page.close();
  }
  console.log(`\n| devices page, ${DEVICES} devices, ${RUNS} loads | median | min | max |`);
  console.log("| --- | ---: | ---: | ---: |");
  const row = (name: string, values: number[]) =>
    console.log(
      `| ${name} | ${median(values).toFixed(0)} ms | ${Math.min(...values).toFixed(0)} ms | ${
        Math.max(...values).toFixed(0)
      } ms |`,
    );
  row("navigation → load event (page, script, CSS)", loaded);
  row("navigation → table of 100 rows drawn", firstRender);
} finally {
  await chromium.close();
  sim.stdin.close();
  await sim.status;
  await server.close();
}
