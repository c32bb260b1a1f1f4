/** The names a self-signed certificate is issued for: DNS names and IP addresses, checked and normalised. */

/** One name of a certificate: a DNS name (SAN dNSName) or an IP address (SAN iPAddress). */
export interface TlsName {
  type: "dns" | "ip";
  /** Lower-case DNS name, or the canonical text of the address (`::1`, `10.0.0.2`). */
  value: string;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The names `--tls-self-signed` uses when given none. */
export const DEFAULT_TLS_NAMES = "localhost,127.0.0.1,::1";

/** Parses one name, or returns null when it is neither a DNS name (`*.` allowed first) nor an IP address. */
export function parseTlsName(text: string): TlsName | null {
  const name = text.trim().toLowerCase();
  if (IPV4.test(name)) {
    return name.split(".").every((part) => Number(part) <= 255)
      ? { type: "ip", value: canonicalIp(name) }
      : null;
  }
  if (name.includes(":")) {
    try {
      return { type: "ip", value: canonicalIp(name.replace(/^\[|\]$/g, "")) };
    } catch {
      return null;
    }
  }
  if (name.length === 0 || name.length > 253) return null;
  const labels = name.split(".");
  const plain = labels[0] === "*" ? labels.slice(1) : labels;
  return plain.length > 0 && plain.every((label) => DNS_LABEL.test(label))
    ? { type: "dns", value: name }
    : null;
}

/** The canonical text of an IP address (`0:0::1` → `::1`); throws when it is not one. */
export function canonicalIp(address: string): string {
  const host = new URL(`http://${address.includes(":") ? `[${address}]` : address}/`).hostname;
  const bare = host.replace(/^\[|\]$/g, "");
  if (!address.includes(":") && !IPV4.test(bare)) throw new TypeError(`not an IP address: ${address}`);
  return bare;
}

/**
 * Parses a comma-separated list of names: `{ ok: true, names }` in the given order without repeats, or
 * `{ ok: false, message }` naming the first bad one.
 */
export function parseTlsNames(list: string): { ok: true; names: TlsName[] } | { ok: false; message: string } {
  const names: TlsName[] = [];
  for (const part of list.split(",")) {
    if (part.trim() === "") continue;
    const name = parseTlsName(part);
    if (name === null) {
      return { ok: false, message: `"${part.trim()}" is neither a host name nor an IP address` };
    }
    if (!names.some((n) => n.type === name.type && n.value === name.value)) names.push(name);
  }
  if (names.length === 0) return { ok: false, message: "give at least one host name or IP address" };
  if (names.length > 100) return { ok: false, message: "at most 100 names" };
  return { ok: true, names };
}

/** Whether two lists hold the same names, in any order. */
export function sameNames(a: readonly TlsName[], b: readonly TlsName[]): boolean {
  const key = (n: TlsName) => `${n.type}:${n.value}`;
  const left = new Set(a.map(key));
  return left.size === new Set(b.map(key)).size && b.every((n) => left.has(key(n)));
}
