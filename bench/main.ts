/**
 * `deno task bench`: runs each benchmark that exists, one after another, each in its own process with
 * `--v8-flags=--expose-gc`, prints its output, and exits non-zero if any failed.
 */
const BENCHES = [
  "codec_bench.ts",
  "gateway_bench.ts",
  "idle_memory_bench.ts",
  "capture_bench.ts",
  "scheduler_bench.ts",
  "scheduler_core_bench.ts",
  "validate_bench.ts",
  "dag_cpu_bench.ts",
  "action_bench.ts",
  "restart_bench.ts",
  "dag_flow_bench.ts",
  "typing_bench.ts",
  "http_bench.ts",
  "step_log_bench.ts",
  "brain_bench.ts",
  "cli_bench.ts",
  "media_bench.ts",
  "transport_bench.ts",
  "ocr_bench.ts",
  "click_text_bench.ts",
  "dashboard_bench.ts",
];

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

const results: Array<{ name: string; code: number; seconds: number }> = [];
for (const name of BENCHES) {
  const path = new URL(`./${name}`, import.meta.url).pathname;
  if (!(await exists(path))) continue;
  console.log(`\n# bench/${name}`);
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--v8-flags=--expose-gc", path],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) console.error(`bench/${name} failed with exit code ${code}`);
  results.push({ name, code, seconds });
}

console.log("\n# Summary\n");
console.log("| bench | result | time |");
console.log("| --- | --- | ---: |");
for (const { name, code, seconds } of results) {
  console.log(`| bench/${name} | ${code === 0 ? "ok" : `failed (exit ${code})`} | ${seconds.toFixed(1)} s |`);
}
Deno.exit(results.every((r) => r.code === 0) ? 0 : 1);
