/** Capture + encode per frame at 1280×800 through the Node helper (robotjs + sharp), JPEG vs PNG, one run. */
import { HelperProcess } from "../client/helper_process.ts";
import { decodeBase64 } from "../shared/base64.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";

const FRAMES = 30;
const x = await startXServer();
// Draw something less trivial than a flat colour, so the encoders have work to do.
await x.run("xsetroot", ["-mod", "16", "16", "-fg", "#d0d0d0", "-bg", "#203040"]);
const helper = new HelperProcess({ env: { DISPLAY: x.display } });
try {
  await helper.request("screens");
  const rows: string[] = [];
  for (const [format, scale] of [["jpeg", 1], ["png", 1], ["jpeg", 0.5], ["png", 0.5]] as const) {
    await helper.request("capture", { format, scale, quality: 80 });
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < FRAMES; i++) {
      const started = performance.now();
      const result = await helper.request<{ image: string }>("capture", { format, scale, quality: 80 });
      bytes = decodeBase64(result.image).byteLength;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    rows.push(
      `| ${format} | ${scale} | ${times[Math.floor(FRAMES / 2)].toFixed(1)} | ${
        times[Math.floor(FRAMES * 0.95)].toFixed(1)
      } | ${(bytes / 1024).toFixed(0)} |`,
    );
  }
  const pings: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    await helper.request("ping");
    pings.push(performance.now() - started);
  }
  pings.sort((a, b) => a - b);
  console.log(
    `\n## Capture + encode at 1280x800 through the helper (includes the stdio hop), ${FRAMES} frames each`,
  );
  console.log("| format | scale | p50 ms | p95 ms | KiB per frame |\n| --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
  console.log(
    `Helper stdio round trip (no-op op): p50 ${pings[250].toFixed(3)} ms, p99 ${pings[495].toFixed(3)} ms`,
  );
} finally {
  await helper.close();
  await x.stop();
}
