/**
 * Typing through the Node helper on Xvnc, one run: printable ASCII (robotjs), Unicode with every keysym
 * already in the pool, Unicode needing 4 fresh bindings per call, and `xdotool type` of the same Unicode
 * text (the old path, which borrows and restores a keycode per character) for comparison.
 */
import { HelperProcess } from "../client/helper_process.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";

const N = 30;
const UNICODE = "héllo wörld ✓ Ω";

async function p50(run: (i: number) => Promise<unknown>): Promise<number> {
  await run(-1);
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(N / 2)];
}

const x = await startXServer();
const helper = new HelperProcess({ env: { DISPLAY: x.display } });
try {
  const ascii = await p50(() => helper.request("type", { text: "hello world 12" }));
  const warm = await p50(() => helper.request("type", { text: UNICODE }));
  // Four CJK characters never typed before on each call: four bindings, evicting older ones.
  const fresh = (i: number) =>
    String.fromCodePoint(...Array.from({ length: 4 }, (_, k) => 0x4e00 + (i + 1) * 4 + k)) + " ok";
  const cold = await p50((i) => helper.request("type", { text: fresh(i) }));
  const xdotool = await p50(() => x.run("xdotool", ["type", "--delay", "1", "--", UNICODE]));
  console.log(`\n## Typing through the helper on Xvnc, p50 of ${N} calls (stdio hop included)`);
  console.log("| text | path | p50 ms | ms per character |\n| --- | --- | ---: | ---: |");
  const row = (text: string, path: string, ms: number) =>
    console.log(
      `| ${JSON.stringify(text)} | ${path} | ${ms.toFixed(1)} | ${(ms / [...text].length).toFixed(2)} |`,
    );
  row("hello world 12", "robotjs typeString", ascii);
  row(UNICODE, "keysym pool, all bound", warm);
  row(fresh(0), "keysym pool, 4 new bindings", cold);
  row(UNICODE, "xdotool type (old path, loses keysyms)", xdotool);
  console.log(`Pool, all bound vs xdotool type: ${(warm / xdotool).toFixed(2)}x the time`);
} finally {
  await helper.close();
  await x.stop();
}
