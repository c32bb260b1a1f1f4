/**
 * The browser scripts (the device client, `/device.js`, and the operator dashboard, `/dashboard.js`), each
 * built from the project's own sources with `deno bundle --platform browser --minify` (offline: esbuild
 * comes from the npm cache) the first time it is asked for, and kept under `<data-dir>/web/` named by a hash
 * of the sources, so a changed source is never served stale and an unchanged one is built once.
 * `deno task build-web` builds the same files into `web/dist/` ahead of time (an image without write access
 * to its sources, or a CI warm-up); the server uses them when their hash matches. Run as a script:
 * `deno run -A server/http/web_bundle.ts [OUT_DIR]`.
 */
import { createHash } from "node:crypto";

/** The repository root (sources are bundled from here). */
const ROOT = new URL("../../", import.meta.url);

/** The bundles the server serves: a name (the file's prefix) and the entry module. */
export const BUNDLES = {
  device: "web/device_client.ts",
  dashboard: "web/dashboard/main.ts",
} as const;
/** A bundle's name. */
export type BundleName = keyof typeof BUNDLES;
const SOURCE_DIRS = ["web", "client", "shared"];

/** The device page itself. */
export const DEVICE_PAGE_URL = new URL("web/device.html", ROOT);
/** The dashboard's page and its style sheet. */
export const DASHBOARD_PAGE_URL = new URL("web/dashboard.html", ROOT);
export const DASHBOARD_CSS_URL = new URL("web/dashboard.css", ROOT);

async function* sourceFiles(dir: URL): AsyncGenerator<URL> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name === "helper") continue;
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* sourceFiles(url);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield url;
  }
}

/** A short hash of everything the bundle is built from (sources, import map, lock file). */
export async function sourceHash(): Promise<string> {
  const hash = createHash("sha256");
  for (const dir of SOURCE_DIRS) {
    for await (const file of sourceFiles(new URL(`${dir}/`, ROOT))) {
      hash.update(file.pathname.slice(ROOT.pathname.length)).update("\0").update(await Deno.readFile(file));
    }
  }
  for (const name of ["deno.json", "deno.lock"]) {
    hash.update(await Deno.readFile(new URL(name, ROOT)).catch(() => new Uint8Array()));
  }
  return hash.digest("hex").slice(0, 16);
}

/** Builds a bundle into `outDir` (made if missing); resolves with its path. */
export async function buildBundle(bundle: BundleName, outDir: string, hash?: string): Promise<string> {
  const name = `${bundle}-${hash ?? await sourceHash()}.js`;
  await Deno.mkdir(outDir, { recursive: true });
  const target = `${outDir}/${name}`;
  const partial = `${outDir}/.${name}.${Deno.pid}.partial.js`;
  const run = (program: string) =>
    new Deno.Command(program, {
      args: ["bundle", "--quiet", "--platform", "browser", "--minify", "-o", partial, BUNDLES[bundle]],
      cwd: ROOT.pathname,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  let output: Deno.CommandOutput;
  try {
    output = await run(Deno.execPath());
  } catch (error) {
    // `--allow-run=deno` names the `deno` on PATH, which may be a link to this executable.
    if (!(error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied)) {
      throw error;
    }
    output = await run("deno");
  }
  const { code, stderr } = output;
  if (code !== 0) {
    await Deno.remove(partial).catch(() => {});
    const detail = new TextDecoder().decode(stderr).trim().split("\n").slice(-3).join(" ");
    throw new Error(`deno bundle exited with ${code}: ${detail}`);
  }
  await Deno.rename(partial, target);
  return target;
}

const built = new Map<string, { promise: Promise<Uint8Array>; failedAtMs?: number }>();
/** A failed build is not tried again for this long: the route is public, builds cost CPU. */
const RETRY_AFTER_MS = 30_000;
const byHash = new Map<string, Uint8Array>();

/**
 * A minified script: from `web/dist/` when `deno task build-web` made it for these sources, else from
 * `cacheDir`, else built now (once per process and source hash; a failure is retried after a pause).
 */
export function bundleBytes(bundle: BundleName, cacheDir: string): Promise<Uint8Array> {
  const key = `${bundle}\0${cacheDir}`;
  const known = built.get(key);
  const retry = known?.failedAtMs !== undefined && Date.now() - known.failedAtMs >= RETRY_AFTER_MS;
  if (known !== undefined && !retry) return known.promise;
  const promise = (async () => {
    const hash = await sourceHash();
    const cached = byHash.get(`${bundle}-${hash}`);
    if (cached !== undefined) return cached;
    const name = `${bundle}-${hash}.js`;
    for (const dir of [new URL("web/dist/", ROOT).pathname, cacheDir]) {
      try {
        return await Deno.readFile(`${dir}/${name}`);
      } catch {
        // Not built there.
      }
    }
    const bytes = await Deno.readFile(await buildBundle(bundle, cacheDir, hash));
    byHash.set(`${bundle}-${hash}`, bytes);
    return bytes;
  })();
  const entry: { promise: Promise<Uint8Array>; failedAtMs?: number } = { promise };
  built.set(key, entry);
  promise.catch(() => entry.failedAtMs = Date.now());
  return promise;
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? new URL("web/dist", ROOT).pathname;
  const hash = await sourceHash();
  for (const bundle of Object.keys(BUNDLES) as BundleName[]) {
    const path = await buildBundle(bundle, outDir, hash);
    console.log(`${path} (${(await Deno.stat(path)).size} bytes)`);
  }
}
