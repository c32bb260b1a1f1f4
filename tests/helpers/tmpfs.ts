/**
 * A small tmpfs mounted for one test, to give the server a disk that really fills up. The suite runs as root
 * on Linux (`mount`/`umount` from Debian's mount package, which `.ci/run` installs); where mounting is
 * impossible the full-disk tests fail saying why, rather than being skipped.
 */

/** A mounted tmpfs. */
export interface Tmpfs {
  /** The mount point (empty at first). */
  dir: string;
  /** Fills the file system to the last byte with a ballast file. */
  fill(): Promise<void>;
  /** Deletes the ballast, giving the space back. */
  free(): Promise<void>;
  /** Unmounts and removes the mount point. */
  unmount(): Promise<void>;
}

async function run(args: string[]): Promise<{ ok: boolean; output: string }> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), stdout: "piped", stderr: "piped" })
    .output().catch((error) => ({
      success: false,
      stdout: new Uint8Array(),
      stderr: new TextEncoder().encode(String(error)),
    }));
  const decoder = new TextDecoder();
  return { ok: out.success, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

/** Mounts a tmpfs of `sizeBytes` on a fresh temp dir. */
export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-tmpfs-" });
  const mounted = await run(["mount", "-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
  if (!mounted.ok) throw new Error(`Cannot mount tmpfs on ${dir}: ${mounted.output.trim()}`);
  const ballast = `${dir}/.ballast`;
  return {
    dir,
    async fill() {
      const file = await Deno.open(ballast, { write: true, create: true, append: true });
      try {
        for (const size of [1 << 20, 1 << 16, 1 << 12, 1]) {
          const chunk = new Uint8Array(size);
          while (true) {
            try {
              const written = await file.write(chunk);
              if (written < size) break;
            } catch {
              break;
            }
          }
        }
      } finally {
        file.close();
      }
    },
    async free() {
      await Deno.remove(ballast).catch(() => {});
    },
    async unmount() {
      await run(["umount", "-l", dir]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
