/**
 * `clickText` end to end, one run: an operator's `POST /api/devices/:id/actions {"type":"clickText"}` on a
 * real server, a real client on Xvnc and an xmessage window: frame (REQUEST_FRAME → PNG at the Brain), OCR
 * (tesseract CLI), match, ACTION_CLICK → RESULT, HTTP answer. Two rows: "new frame" changes the root window's
 * colour before each request, so every look reads a frame OCR has not seen; "same frame" repeats on a still
 * screen, where the text of the identical frame is reused (`server/brain/ocr_cache.ts`). The click lands on
 * the label, which does nothing (its text widget's translations are emptied, so clicks never select), so the
 * window stays.
 */
import { startClient } from "../tests/helpers/client_process.ts";
import { until } from "../tests/helpers/gateway_harness.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";
import { ascending, percentile } from "./stats.ts";

const RUNS = 15;

const x = await startXServer();
const server = await startTestServer();
const client = await startClient(server.wsUrl, server.deviceKey, "bench-desk", {
  env: { DISPLAY: x.display },
});
const dialog = new Deno.Command("xmessage", {
  args: [
    "-center",
    "-fn",
    "10x20",
    // The label is a text widget: with its translations emptied, clicks never select a word (a selection
    // would change what OCR reads).
    "-xrm",
    "*message.translations: #replace <Key>F35: no-op()",
    "-buttons",
    "Proceed",
    "Quarterly report ready",
  ],
  env: { DISPLAY: x.display },
  stdout: "null",
  stderr: "null",
}).spawn();

async function clickText(): Promise<number> {
  const started = performance.now();
  const response = await server.api("/api/devices/bench-desk/actions", {
    method: "POST",
    body: JSON.stringify({ type: "clickText", text: "report ready", timeoutMs: 10_000 }),
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`clickText failed: ${JSON.stringify(body)}`);
  return performance.now() - started;
}

async function rootColour(i: number): Promise<void> {
  const colour = `#${(0x203040 + i * 0x010203).toString(16).padStart(6, "0")}`;
  const { success } = await new Deno.Command("xsetroot", {
    args: ["-solid", colour],
    env: { DISPLAY: x.display },
  })
    .output();
  if (!success) throw new Error("xsetroot failed");
}

const pct = (sorted: number[], p: number) => percentile(sorted, p).toFixed(0);

try {
  await until(() => server.gateway.device("bench-desk")?.state === "ready", "the client", 20_000);
  // The window is up once its text can be clicked (this is also the warm-up).
  let up = false;
  for (let i = 0; i < 20 && !up; i++) {
    up = await clickText().then(() => true, () => false);
  }
  if (!up) throw new Error("xmessage's text never became clickable");
  const fresh: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await rootColour(i);
    fresh.push(await clickText());
  }
  const same: number[] = [];
  for (let i = 0; i < RUNS; i++) same.push(await clickText());
  console.log(`\n## clickText end to end, 1280x800 Xvnc screen, real client (${RUNS} runs each, one run)`);
  console.log("| screen | p50 ms | p95 ms |\n| --- | ---: | ---: |");
  console.log(
    `| new frame each time (frame + OCR + click) | ${pct(ascending(fresh), 0.5)} | ${
      pct(ascending(fresh), 0.95)
    } |`,
  );
  console.log(
    `| same frame (text reused: frame + click) | ${pct(ascending(same), 0.5)} | ${
      pct(ascending(same), 0.95)
    } |`,
  );
} finally {
  try {
    dialog.kill();
  } catch {
    // Gone already.
  }
  await dialog.status;
  await client.stop();
  await server.close();
  await x.stop();
}
