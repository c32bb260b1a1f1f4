/** Keys: device keys and operator tokens, separate scopes, stored only as hashes. */

/** Which side a key belongs to. */
export type KeyScope = "device" | "operator";

/** A key as stored and listed; the secret itself is never kept. */
export interface KeyRecord {
  id: string;
  scope: KeyScope;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/** What the gateway and the HTTP layer need from the key store. */
export interface KeyVerifier {
  /** Resolves a presented secret to its live (unrevoked) key, or null. */
  verify(secret: string): KeyRecord | null;
  /** Calls `listener` with the key id whenever a key is revoked; returns an unsubscribe function. */
  onRevoke(listener: (keyId: string) => void): () => void;
}
