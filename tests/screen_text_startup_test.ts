import assert from "node:assert/strict";
import { TesseractOcr } from "../server/brain/ocr.ts";
import type { Fields, Logger } from "../server/log.ts";
import { startClient } from "./helpers/client_process.ts";
import { submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A logger that keeps every line. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: Fields }> } {
  const lines: Array<{ level: string; message: string; fields?: Fields }> = [];
  const keep = (level: string) => (message: string, fields?: Fields) =>
    void lines.push({ level, message, fields });
  return { lines, info: keep("info"), warn: keep("warn"), error: keep("error") };
}

Deno.test("a server without OCR says so once at start-up and still runs script nodes", live, async () => {
  const log = recordingLogger();
  const ocr = new TesseractOcr({ binary: "/nonexistent/alien3/tesseract" });
  const server = await startTestServer([], undefined, { log, ocr });
  const device = await startClient(server.wsUrl, server.deviceKey, "no-ocr");
  try {
    const warnings = log.lines.filter((line) => /Screen text/.test(line.message));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].level, "warn");
    assert.equal(warnings[0].message, "Screen text unavailable: steps that read the screen will fail");
    const error = warnings[0].fields?.error as { code: string; message: string };
    assert.equal(error.code, "ocr-unavailable");
    assert.match(error.message, /\/nonexistent\/alien3\/tesseract is not installed/);
    assert.equal(server.ocr, ocr);

    await until(() => server.gateway.devices().some((d) => d.state === "ready"), "the device", 15_000);
    const id = await submitDag(server, {
      name: "no text steps",
      nodes: [{
        id: "wait",
        kind: "script",
        target: { device: "no-ocr" },
        steps: [{ type: "wait", ms: 10 }],
      }],
    });
    assert.equal((await waitForDag(server, id, 15_000)).state, "succeeded");
  } finally {
    await device.stop();
    await server.close();
  }
});

Deno.test("a server with OCR logs the engine and its version at start-up", async () => {
  const log = recordingLogger();
  const server = await startTestServer([], undefined, { log });
  try {
    const ready = log.lines.filter((line) => /Screen text/.test(line.message));
    assert.deepEqual(ready.map((line) => [line.level, line.message]), [["info", "Screen text ready"]]);
    assert.match(String(ready[0].fields?.engine), /^tesseract \d+\.\d+/);
  } finally {
    await server.close();
  }
});
