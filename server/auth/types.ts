/** Keys: device keys, enrollment keys and operator tokens, separate scopes, stored only as hashes. */

/**
 * Which side a key belongs to: `device` joins devices, `enroll` joins a device once and mints it a key of
 * its own, `operator` calls the REST API.
 */
export type KeyScope = "device" | "operator" | "enroll";

/** A key as stored and listed; the secret itself is never kept. */
export interface KeyRecord {
  id: string;
  scope: KeyScope;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  /** The one device name a device key is bound to; null for a fleet key (any name) and other scopes. */
  device: string | null;
  /** The enrollment key that minted this device key; null for keys an operator created. */
  enrolledBy: string | null;
}

/** A key created just now: its record and its secret, shown once. */
export interface CreatedKey {
  record: KeyRecord;
  secret: string;
}

/** What the gateway and the HTTP layer need from the key store. */
export interface KeyVerifier {
  /** Resolves a presented secret to its live (unrevoked) key, or null. */
  verify(secret: string): KeyRecord | null;
  /** Calls `listener` with the key id whenever a key is revoked; returns an unsubscribe function. */
  onRevoke(listener: (keyId: string) => void): () => void;
  /**
   * Mints a device key bound to `device` for a device joining with the enrollment key `enrollKeyId`; null
   * when a live key is already bound to that name (the device enrolled before, or an operator bound one).
   */
  enroll(enrollKeyId: string, device: string): CreatedKey | null;
}
