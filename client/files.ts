/**
 * The device's files directory is the only place artifacts are read from or written to. A task's
 * relative path is checked by shape first (no absolute paths, `..`, backslashes, NUL), then on disk:
 * every existing ancestor, resolved through its symlinks, must still lie inside the directory.
 */
import { join, sep } from "node:path";
import { validateRelativePath } from "../shared/artifacts.ts";
import { err, ok, type Result } from "../shared/result.ts";
import { type ProtocolError, protocolError } from "../shared/protocol/errors.ts";

/** Options of `resolveInFilesDir`. */
export interface ResolveOptions {
  /** Create the missing parent directories of the target, inside the files directory (default false). */
  createParents?: boolean;
}

/**
 * Resolves `relative` inside `filesDir` and returns the absolute path, or a `path-escape` error when the
 * path is malformed or an existing part of it is a symlink that leads outside (or nowhere).
 */
export async function resolveInFilesDir(
  filesDir: string,
  relative: string,
  options: ResolveOptions = {},
): Promise<Result<string, ProtocolError>> {
  const segments = validateRelativePath(relative);
  if (!segments.ok) return segments;
  await Deno.mkdir(filesDir, { recursive: true });
  const root = await Deno.realPath(filesDir);
  const escape = (why: string) => err(protocolError("path-escape", `${JSON.stringify(relative)} ${why}`));
  let current = root;
  let existing = 0;
  for (const segment of segments.value) {
    const next = join(current, segment);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(next);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) break;
      throw error;
    }
    if (info.isSymlink) {
      let real: string;
      try {
        real = await Deno.realPath(next);
      } catch {
        return escape(`goes through the dangling link ${segment}`);
      }
      if (real !== root && !real.startsWith(root + sep)) {
        return escape(`leaves the files directory via ${segment}`);
      }
    }
    current = next;
    existing++;
  }
  const target = join(root, ...segments.value);
  if (options.createParents && existing < segments.value.length - 1) {
    await Deno.mkdir(join(root, ...segments.value.slice(0, -1)), { recursive: true });
  }
  return ok(target);
}
