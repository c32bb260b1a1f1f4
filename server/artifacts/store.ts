/**
 * Artifact files on the server: `<dataDir>/artifacts/<dagId>/<artifact>`, each with metadata (size,
 * SHA-256, creation time, producer). Incoming transfers write to a partial file under
 * `<dataDir>/artifacts/.partial/` and are renamed into place only once verified, so a reader never sees
 * half a file.
 *
 * TODO(lead): metadata lives in a JSON sidecar (`<dagId>/.meta/<artifact>.json`) because
 * `server/store/db.ts` did not exist yet; move it into the SQLite store when it lands.
 */
import { join } from "node:path";
import { z } from "zod";
import { validateSegmentName } from "../../shared/artifacts.ts";
import type { Clock } from "../../shared/clock.ts";

const ArtifactMetaSchema = z.object({
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int().min(0),
  producedBy: z.object({ nodeId: z.string(), deviceId: z.string() }),
});
/** What the server knows of a stored artifact. `createdAt` is Unix ms. */
export type ArtifactMeta = z.infer<typeof ArtifactMetaSchema>;

/** Settings of an artifact store. */
export interface ArtifactStoreOptions {
  /** The server's data directory; artifacts go under `<dataDir>/artifacts`. */
  dataDir: string;
  clock: Clock;
  /** Partial file name source; default `crypto.randomUUID`. */
  newId?: () => string;
}

/** A partial file being written by an incoming transfer. */
export interface PartialFile {
  path: string;
  file: Deno.FsFile;
}

/** Artifact files and their metadata under the data directory. */
export class ArtifactStore {
  /** Where artifacts live. */
  readonly root: string;
  /** Where incoming transfers write before they are verified. */
  readonly partialDir: string;

  private constructor(readonly options: ArtifactStoreOptions) {
    this.root = join(options.dataDir, "artifacts");
    this.partialDir = join(this.root, ".partial");
  }

  /** Opens the store, creating its folders and deleting partial files a previous run left behind. */
  static async open(options: ArtifactStoreOptions): Promise<ArtifactStore> {
    const store = new ArtifactStore(options);
    await Deno.remove(store.partialDir, { recursive: true }).catch(ignoreNotFound);
    await Deno.mkdir(store.partialDir, { recursive: true });
    return store;
  }

  /** Creates an empty partial file for an incoming transfer. */
  async createPartial(): Promise<PartialFile> {
    const path = join(this.partialDir, `${this.options.newId?.() ?? crypto.randomUUID()}.part`);
    const file = await Deno.open(path, { write: true, createNew: true });
    return { path, file };
  }

  /** Deletes a partial file; missing is fine. */
  async discard(partialPath: string): Promise<void> {
    await Deno.remove(partialPath).catch(ignoreNotFound);
  }

  /** Moves a verified partial file into place (replacing an older version) and records its metadata. */
  async commit(
    partialPath: string,
    dagId: string,
    artifact: string,
    meta: Omit<ArtifactMeta, "createdAt">,
  ): Promise<ArtifactMeta> {
    const paths = this.#paths(dagId, artifact);
    if (paths === null) throw new Error(`Cannot store artifact: invalid name ${dagId}/${artifact}`);
    const full: ArtifactMeta = { ...meta, createdAt: this.options.clock.now() };
    await Deno.mkdir(join(this.root, dagId, ".meta"), { recursive: true });
    const metaTemp = `${partialPath}.json`;
    await Deno.writeTextFile(metaTemp, JSON.stringify(full));
    await Deno.rename(partialPath, paths.file);
    await Deno.rename(metaTemp, paths.meta);
    return full;
  }

  /** Whether a complete artifact is stored. */
  async has(dagId: string, artifact: string): Promise<boolean> {
    return (await this.describe(dagId, artifact)) !== null;
  }

  /** The metadata of a stored artifact, or null. */
  async describe(dagId: string, artifact: string): Promise<ArtifactMeta | null> {
    const paths = this.#paths(dagId, artifact);
    if (paths === null) return null;
    let text: string;
    try {
      text = await Deno.readTextFile(paths.meta);
      await Deno.stat(paths.file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null;
    }
    const parsed = ArtifactMetaSchema.safeParse(json);
    return parsed.success ? parsed.data : null;
  }

  /** Every stored artifact of a DAG, by name. */
  async list(dagId: string): Promise<Array<{ artifact: string; meta: ArtifactMeta }>> {
    if (!validateSegmentName(dagId).ok) return [];
    const out: Array<{ artifact: string; meta: ArtifactMeta }> = [];
    try {
      for await (const entry of Deno.readDir(join(this.root, dagId))) {
        if (!entry.isFile) continue;
        const meta = await this.describe(dagId, entry.name);
        if (meta !== null) out.push({ artifact: entry.name, meta });
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return out.sort((a, b) => a.artifact.localeCompare(b.artifact));
  }

  /** Opens a stored artifact for reading in chunks; the caller closes the file. */
  async openFile(dagId: string, artifact: string): Promise<{ meta: ArtifactMeta; file: Deno.FsFile } | null> {
    const meta = await this.describe(dagId, artifact);
    if (meta === null) return null;
    try {
      return { meta, file: await Deno.open(this.#paths(dagId, artifact)!.file, { read: true }) };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /** A stored artifact as a byte stream (for a REST download); the stream closes the file when done. */
  async open(
    dagId: string,
    artifact: string,
  ): Promise<{ meta: ArtifactMeta; stream: ReadableStream<Uint8Array> } | null> {
    const opened = await this.openFile(dagId, artifact);
    return opened && { meta: opened.meta, stream: opened.file.readable };
  }

  #paths(dagId: string, artifact: string): { file: string; meta: string } | null {
    if (!validateSegmentName(dagId).ok || !validateSegmentName(artifact).ok) return null;
    return {
      file: join(this.root, dagId, artifact),
      meta: join(this.root, dagId, ".meta", `${artifact}.json`),
    };
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
