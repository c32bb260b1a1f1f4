import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const output = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return { cert, key };
}

Deno.test("with --tls-cert/--tls-key the server serves HTTPS and a WSS device handshake", live, async () => {
  const dir = await Deno.makeTempDir();
  const { cert, key } = await selfSignedCertificate(dir);
  const server = await startTestServer(["--tls-cert", cert, "--tls-key", key]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cert)] });
  try {
    assert.match(server.url, /^https:/);
    assert.match(server.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/v1\/device$/);
    const health = await fetch(`${server.url}/healthz`, { client });
    assert.deepEqual(await health.json(), { status: "ok" });
    const devices = await fetch(`${server.url}/api/devices`, {
      client,
      headers: { authorization: `Bearer ${server.operatorToken}` },
    });
    assert.equal(devices.status, 200);
    await devices.body?.cancel();

    const probe = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./helpers/wss_probe.ts", import.meta.url).pathname,
        server.wsUrl,
        server.deviceKey,
      ],
      env: { DENO_CERT: cert },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(probe.stdout);
    assert.equal(probe.code, 0, new TextDecoder().decode(probe.stderr));
    const result = JSON.parse(stdout.trim());
    assert.deepEqual([result.ack, result.resumed, result.ready], ["ACK", false, "READY"]);
    assert.ok(server.gateway.device(result.deviceId), "the server knows the device that joined over WSS");

    const plain = await fetch(`${server.url.replace("https", "http")}/healthz`).catch((e) => e);
    assert.ok(plain instanceof Error, "plain HTTP is not served on the TLS port");
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
