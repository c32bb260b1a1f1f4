/**
 * The device key an enrollment minted for this client, kept in the data dir: one file per server and device
 * name (`credentials/<name>@<host>.json`, mode 0600), holding the key and the SHA-256 of the enrollment key
 * that minted it. A later start with that same enrollment key joins with the stored key instead, so the
 * device keeps its identity and revoking its key refuses it for good (it does not enroll again).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Credential } from "../shared/protocol/mod.ts";

const StoredSchema = z.object({
  server: z.string(),
  name: z.string(),
  keyId: z.string(),
  secret: z.string().min(1),
  enrollmentKeySha256: z.string(),
  savedAt: z.string(),
});

/** A stored credential. */
export type StoredCredential = z.infer<typeof StoredSchema>;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Minted device keys under `<dataDir>/credentials`. */
export class CredentialStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = `${dataDir}/credentials`;
  }

  /** The file holding the key of device `name` on `server`. */
  pathFor(server: string, name: string): string {
    return `${this.#dir}/${name}@${new URL(server).host.replace(/[^A-Za-z0-9.-]/g, "_")}.json`;
  }

  /**
   * The stored key of `name` on `server` when `key` is the enrollment key that minted it; null when there is
   * none, or `key` is another key (a fleet or bound key is used as given).
   */
  async load(server: string, name: string, key: string): Promise<StoredCredential | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.pathFor(server, name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const parsed = StoredSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `Cannot read ${this.pathFor(server, name)}: it is not a stored device key; move it away`,
      );
    }
    const stored = parsed.data;
    const matches = stored.server === server && stored.name === name &&
      stored.enrollmentKeySha256 === sha256(key);
    return matches ? stored : null;
  }

  /** Stores the key minted for `name` on `server` with enrollment key `key`; returns the file (mode 0600). */
  async save(server: string, name: string, key: string, credential: Credential, now: Date): Promise<string> {
    const path = this.pathFor(server, name);
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const stored: StoredCredential = {
      server,
      name,
      keyId: credential.keyId,
      secret: credential.secret,
      enrollmentKeySha256: sha256(key),
      savedAt: now.toISOString(),
    };
    // Written beside the target and renamed over it: a crash never leaves half a key behind.
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temporary, JSON.stringify(stored, null, 2) + "\n", {
      mode: 0o600,
      createNew: true,
    });
    await Deno.chmod(temporary, 0o600).catch(() => {});
    await Deno.rename(temporary, path);
    return path;
  }
}
