/** What the server prints at start about a `--tls-self-signed` certificate: its fingerprint and how to join. */
import type { TlsName } from "./names.ts";
import type { SelfSignedTls } from "./self_signed.ts";

/** The host a device should dial: `shownHost` when the certificate names it, else the certificate's first name. */
export function joinHost(names: readonly TlsName[], shownHost: string): string {
  const host = names.some((n) => n.value === shownHost.toLowerCase()) ? shownHost : names[0].value;
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * The lines printed at every start: names, fingerprint, where the CA file is, and the two join commands
 * (`--ca-file` checks the chain and the name; `--insecure-fingerprint` trusts exactly this certificate).
 * `caFile` is the absolute path; `key` the device key when it is known (first start), else a placeholder;
 * `filesDir` the client's files dir the commands name.
 */
export function selfSignedBanner(
  tls: Pick<SelfSignedTls, "names" | "fingerprint" | "issued" | "notAfter">,
  options: { caFile: string; shownHost: string; port: number; key?: string; filesDir: string },
): string[] {
  const host = joinHost(tls.names, options.shownHost);
  const key = options.key ?? "<device key>";
  const client = `deno task client --connect wss://${host}:${options.port} --key ${key} --name my-device ` +
    `--files-dir ${options.filesDir}`;
  const issued = { created: "created now", reissued: "re-issued now", reused: "reused" }[tls.issued];
  return [
    `TLS: self-signed certificate for ${tls.names.map((n) => n.value).join(", ")} (${issued}; valid until ${
      tls.notAfter.toISOString().slice(0, 10)
    })`,
    `  SHA-256 fingerprint: ${tls.fingerprint}`,
    `  CA certificate:      ${options.caFile}`,
    "Join a device over TLS, trusting the CA (copy the file to the device):",
    `  ${client} --ca-file ${options.caFile}`,
    "or pinning this certificate (to repeat after the names change):",
    `  ${client} --insecure-fingerprint ${tls.fingerprint}`,
  ];
}
