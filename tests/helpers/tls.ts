/** Certificates for TLS tests: the server's own `--tls-self-signed` pair, or an ordinary `openssl req -x509` one. */
import { parseTlsNames } from "../../server/tls/names.ts";
import { type SelfSignedTls, selfSignedTls } from "../../server/tls/self_signed.ts";

/** Files of a test certificate in a temporary directory; `remove()` deletes them. */
export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The file a client trusts: the CA of a self-signed pair, or the certificate itself. */
  caFile: string;
  cert: string;
  key: string;
  ca: string;
  remove(): Promise<void>;
}

/** A CA and a server certificate for `names` (comma-separated), as `--tls-self-signed` makes them. */
export async function selfSignedCertificate(
  names = "localhost,127.0.0.1",
): Promise<TestCertificate & { tls: SelfSignedTls }> {
  const parsed = parseTlsNames(names);
  if (!parsed.ok) throw new Error(parsed.message);
  const dir = await Deno.makeTempDir({ prefix: "alien3-cert-" });
  const tls = await selfSignedTls({ dir, names: parsed.names, now: new Date() });
  return {
    dir,
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
    caFile: tls.caFile,
    cert: tls.cert,
    key: tls.key,
    ca: await Deno.readTextFile(tls.caFile),
    tls,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * What `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext subjectAltName=…` makes: one
 * self-signed certificate with OpenSSL's default extensions, basicConstraints CA:TRUE among them, plus any
 * `extensions` given (e.g. `basicConstraints=critical,CA:FALSE` for a plain end-entity certificate).
 */
export async function opensslCertificate(
  san = "DNS:localhost,IP:127.0.0.1",
  extensions: readonly string[] = [],
): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-openssl-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const output = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      `subjectAltName=${san}`,
      ...extensions.flatMap((extension) => ["-addext", extension]),
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (output.code !== 0) throw new Error(`openssl failed: ${new TextDecoder().decode(output.stderr)}`);
  const cert = await Deno.readTextFile(certFile);
  return {
    dir,
    certFile,
    keyFile,
    caFile: certFile,
    cert,
    key: await Deno.readTextFile(keyFile),
    ca: cert,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
