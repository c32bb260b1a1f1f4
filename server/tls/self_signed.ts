/**
 * `--tls-self-signed`: a small certificate authority of this server's own and a server certificate it signs
 * for the names given, kept in `<data dir>/tls/` and reused on restart. The leaf is re-issued when the names
 * change or it nears expiry; the authority stays, so devices given `--ca-file ca.pem` keep trusting the
 * server. Why a CA and a leaf rather than one self-signed certificate: browsers and operating systems import
 * an authority (CA:TRUE) as a trust anchor, while TLS stacks refuse a CA:TRUE certificate as the server's
 * own (rustls: "CaUsedAsEndEntity"); the pair satisfies both, as mkcert's does.
 */
import * as x509 from "@peculiar/x509";
import { canonicalIp, sameNames, type TlsName } from "./names.ts";

/** What the server serves and what it prints for devices. */
export interface SelfSignedTls {
  /** PEM: the server certificate, then the authority's. */
  cert: string;
  /** PEM (PKCS #8): the server certificate's private key. */
  key: string;
  /** The authority's certificate, for `--ca-file` and for importing into browsers. */
  caFile: string;
  /** SHA-256 of the server certificate, upper-case hex pairs joined by colons (for `--insecure-fingerprint`). */
  fingerprint: string;
  names: TlsName[];
  notAfter: Date;
  /** `created`: a new authority and certificate; `reissued`: a new certificate (names changed, expiry near). */
  issued: "created" | "reissued" | "reused";
}

/** Where and for what names; `now` is wall-clock time (peers check certificates against it). */
export interface SelfSignedOptions {
  dir: string;
  names: readonly TlsName[];
  now: Date;
  /** Validity of the server certificate (default 397 days: what browsers accept for a server certificate). */
  leafDays?: number;
  /** Validity of the authority (default 3650 days). */
  caDays?: number;
  /** A server certificate closer than this to its end is re-issued at start (default 30 days). */
  renewWithinDays?: number;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start an hour early, for devices whose clocks run a little behind. */
const SKEW_MS = 60 * 60 * 1000;

x509.cryptoProvider.set(crypto);

/** Paths of the four files in `dir`. */
export function selfSignedFiles(dir: string) {
  return {
    caCert: `${dir}/ca.pem`,
    caKey: `${dir}/ca-key.pem`,
    cert: `${dir}/cert.pem`,
    key: `${dir}/key.pem`,
  };
}

/** Loads the certificate for `names` from `dir`, issuing what is missing, stale or for other names. */
export async function selfSignedTls(options: SelfSignedOptions): Promise<SelfSignedTls> {
  const { dir, names, now } = options;
  const leafDays = options.leafDays ?? 397;
  const caDays = options.caDays ?? 3650;
  const renewMs = (options.renewWithinDays ?? 30) * DAY_MS;
  const files = selfSignedFiles(dir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });

  let ca = await loadPair(files.caCert, files.caKey);
  let issued: SelfSignedTls["issued"] = "reused";
  // A leaf must never outlive its authority: renew the authority when it ends before a new leaf would.
  if (ca === null || !ca.isCa || ca.cert.notAfter.getTime() - now.getTime() < leafDays * DAY_MS) {
    ca = await createAuthority(now, caDays);
    await writePem(files.caKey, ca.keyPem, 0o600);
    await writePem(files.caCert, ca.certPem, 0o644);
    issued = "created";
  }
  let leaf = issued === "reused" ? await loadPair(files.cert, files.key) : null;
  const usable = leaf !== null && !leaf.isCa &&
    await leaf.cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }) &&
    leaf.cert.notBefore.getTime() <= now.getTime() &&
    leaf.cert.notAfter.getTime() - now.getTime() >= renewMs &&
    sameNames(certificateNames(leaf.cert), names);
  if (!usable) {
    leaf = await issueLeaf(ca, names, now, leafDays);
    await writePem(files.key, leaf.keyPem, 0o600);
    await writePem(files.cert, `${leaf.certPem}${ca.certPem}`, 0o644);
    if (issued === "reused") issued = "reissued";
  }
  return {
    cert: `${leaf!.certPem}${ca.certPem}`,
    key: leaf!.keyPem,
    caFile: files.caCert,
    fingerprint: await fingerprintOf(leaf!.cert),
    names: certificateNames(leaf!.cert),
    notAfter: leaf!.cert.notAfter,
    issued,
  };
}

/** SHA-256 of a certificate's DER bytes as `AB:CD:…`, the form Node's `fingerprint256` takes. */
export async function fingerprintOf(cert: x509.X509Certificate): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", cert.rawData));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** The DNS and IP names of a certificate's subject alternative name extension. */
export function certificateNames(cert: x509.X509Certificate): TlsName[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (san === null) return [];
  return san.names.items.flatMap((name): TlsName[] => {
    if (name.type === "dns") return [{ type: "dns", value: name.value.toLowerCase() }];
    if (name.type === "ip") return [{ type: "ip", value: canonicalIp(name.value) }];
    return [];
  });
}

interface Pair {
  cert: x509.X509Certificate;
  /** Whether its basic constraints say CA:TRUE. */
  isCa: boolean;
  certPem: string;
  key: CryptoKey;
  keyPem: string;
}

/** A certificate and its key from disk, or null when missing, unreadable, or not a matching pair. */
async function loadPair(certFile: string, keyFile: string): Promise<Pair | null> {
  try {
    const [certText, keyPem] = await Promise.all([Deno.readTextFile(certFile), Deno.readTextFile(keyFile)]);
    const certPem = firstPem(certText);
    const cert = new x509.X509Certificate(certPem);
    const key = await crypto.subtle.importKey(
      "pkcs8",
      x509.PemConverter.decodeFirst(keyPem),
      ALGORITHM,
      true,
      ["sign"],
    );
    const [privateJwk, publicJwk] = await Promise.all([
      crypto.subtle.exportKey("jwk", key),
      cert.publicKey.export(ALGORITHM, ["verify"]).then((k) => crypto.subtle.exportKey("jwk", k)),
    ]);
    if (privateJwk.x !== publicJwk.x || privateJwk.y !== publicJwk.y) return null;
    return { cert, isCa: isAuthority(cert), certPem, key, keyPem };
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) throw error;
    return null;
  }
}

function firstPem(text: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\r?\n?/.exec(text);
  if (match === null) throw new TypeError("no certificate");
  return match[0].endsWith("\n") ? match[0] : `${match[0]}\n`;
}

function isAuthority(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function createAuthority(now: Date, days: number): Promise<Pair> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const tag = randomSerial().slice(0, 8);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=ALIEN3 local CA ${tag}, O=ALIEN3`,
    notBefore: new Date(now.getTime() - SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return pairOf(cert, keys.privateKey);
}

async function issueLeaf(ca: Pair, names: readonly TlsName[], now: Date, days: number): Promise<Pair> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const notAfter = Math.min(now.getTime() + days * DAY_MS, ca.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${names[0].value.replaceAll(/[,+="\\<>;#]/g, "_")}, O=ALIEN3`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - SKEW_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.type, value: n.value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return pairOf(cert, keys.privateKey);
}

/** A certificate just made and its private key, with both in PEM. */
async function pairOf(cert: x509.X509Certificate, key: CryptoKey): Promise<Pair> {
  const keyPem = `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;
  return { cert, isCa: isAuthority(cert), certPem: `${cert.toString("pem")}\n`, key, keyPem };
}

/** Writes a file whole or not at all (a crash mid-write leaves the old one), with `mode`. */
async function writePem(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`;
  await Deno.writeTextFile(temporary, text, { mode });
  await Deno.chmod(temporary, mode);
  await Deno.rename(temporary, path);
}
