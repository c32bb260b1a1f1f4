/** `deno task bench`: runs each benchmark in its own process, one after another, and prints its figures. */
const BENCHES = [
  "codec_bench.ts",
  "gateway_bench.ts",
  "scheduler_bench.ts",
  "capture_bench.ts",
  "action_bench.ts",
];

let failed = 0;
for (const name of BENCHES) {
  const path = new URL(`./${name}`, import.meta.url).pathname;
  try {
    await Deno.stat(path);
  } catch {
    continue;
  }
  console.log(`\n# bench/${name}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--v8-flags=--expose-gc", path],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`bench/${name} failed with exit code ${code}`);
    failed++;
  }
}
Deno.exit(failed === 0 ? 0 : 1);
