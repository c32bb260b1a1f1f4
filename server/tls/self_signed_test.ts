import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { parseTlsNames, type TlsName } from "./names.ts";
import { selfSignedFiles, selfSignedTls } from "./self_signed.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const START = new Date("2026-03-01T12:00:00Z");

function names(list: string): TlsName[] {
  const parsed = parseTlsNames(list);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.names;
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-tls-" });
  try {
    await run(`${dir}/tls`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The PEM blocks of a chain, parsed by Node's X509Certificate (an implementation apart from ours). */
function chain(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) =>
    new X509Certificate(block)
  );
}

Deno.test("selfSignedTls() issues a CA:FALSE server certificate for the names, signed by a CA of its own, and keeps them", async () => {
  await withDir(async (dir) => {
    const tls = await selfSignedTls({ dir, names: names("box.lan,10.0.0.2,::1"), now: START });
    assert.equal(tls.issued, "created");
    const [leaf, ca] = chain(tls.cert);
    assert.equal(leaf.ca, false, "the server certificate is not a CA");
    assert.equal(ca.ca, true);
    assert.ok(leaf.verify(ca.publicKey), "the CA signed it");
    assert.ok(leaf.checkIssued(ca));
    assert.equal(leaf.subjectAltName, "DNS:box.lan, IP Address:10.0.0.2, IP Address:::1");
    assert.equal(
      tls.fingerprint,
      leaf.fingerprint256,
      "the printed fingerprint is the certificate's SHA-256",
    );
    assert.equal(new Date(leaf.validTo).getTime(), START.getTime() + 397 * DAY_MS);
    assert.equal(tls.caFile, selfSignedFiles(dir).caCert);
    assert.equal(new X509Certificate(await Deno.readTextFile(tls.caFile)).fingerprint256, ca.fingerprint256);
    assert.equal(
      (await Deno.stat(selfSignedFiles(dir).key)).mode! & 0o777,
      0o600,
      "private keys are private",
    );
    assert.equal((await Deno.stat(selfSignedFiles(dir).caKey)).mode! & 0o777, 0o600);

    const again = await selfSignedTls({ dir, names: names("::1,BOX.lan,10.0.0.2"), now: START });
    assert.equal(again.issued, "reused", "the same names in another order and case reuse it");
    assert.equal(again.fingerprint, tls.fingerprint);
    assert.equal(again.key, tls.key);
  });
});

Deno.test("selfSignedTls() re-issues the server certificate when the names change or its end nears, keeping the CA", async () => {
  await withDir(async (dir) => {
    const first = await selfSignedTls({ dir, names: names("localhost,127.0.0.1"), now: START });
    const caPem = await Deno.readTextFile(first.caFile);

    const renamed = await selfSignedTls({ dir, names: names("localhost,127.0.0.1,box.lan"), now: START });
    assert.equal(renamed.issued, "reissued");
    assert.notEqual(renamed.fingerprint, first.fingerprint);
    assert.equal(chain(renamed.cert)[0].subjectAltName, "DNS:localhost, IP Address:127.0.0.1, DNS:box.lan");
    assert.equal(await Deno.readTextFile(first.caFile), caPem, "devices trusting the CA keep trusting it");
    assert.ok(chain(renamed.cert)[0].checkIssued(new X509Certificate(caPem)));

    const later = new Date(START.getTime() + 370 * DAY_MS);
    const renewed = await selfSignedTls({ dir, names: names("localhost,127.0.0.1,box.lan"), now: later });
    assert.equal(renewed.issued, "reissued", "27 days before its end it is re-issued");
    assert.equal(renewed.notAfter.getTime(), later.getTime() + 397 * DAY_MS);
    assert.equal(await Deno.readTextFile(first.caFile), caPem);
  });
});

Deno.test("selfSignedTls() replaces a damaged or mismatched key, and a CA that would end before a new certificate", async () => {
  await withDir(async (dir) => {
    const files = selfSignedFiles(dir);
    const first = await selfSignedTls({ dir, names: names("localhost"), now: START });
    await Deno.writeTextFile(files.key, "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
    const repaired = await selfSignedTls({ dir, names: names("localhost"), now: START });
    assert.equal(repaired.issued, "reissued");
    assert.notEqual(repaired.fingerprint, first.fingerprint);

    const other = await Deno.makeTempDir();
    try {
      const stranger = await selfSignedTls({ dir: other, names: names("localhost"), now: START });
      await Deno.writeTextFile(files.key, stranger.key);
      const rematched = await selfSignedTls({ dir, names: names("localhost"), now: START });
      assert.equal(rematched.issued, "reissued", "a key that is not the certificate's is not served");
    } finally {
      await Deno.remove(other, { recursive: true });
    }

    const caPem = await Deno.readTextFile(files.caCert);
    const nearCaEnd = new Date(START.getTime() + (3650 - 300) * DAY_MS);
    const fresh = await selfSignedTls({ dir, names: names("localhost"), now: nearCaEnd });
    assert.equal(fresh.issued, "created");
    assert.notEqual(await Deno.readTextFile(files.caCert), caPem);
    assert.ok(chain(fresh.cert)[0].checkIssued(new X509Certificate(await Deno.readTextFile(files.caCert))));
  });
});
