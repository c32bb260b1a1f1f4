import assert from "node:assert/strict";
import { TlsError, type Transport } from "../shared/transport/transport.ts";
import { opensslCertificate, selfSignedCertificate } from "../tests/helpers/tls.ts";
import { connectNodeWebSocket } from "./ws_transport.ts";

/**
 * A WebSocket echo server on a loopback port (TLS when given a certificate) that records the HTTP requests it
 * saw (a refused certificate must end the connection before a byte of HTTP is written). A frame starting
 * 0xfe is answered with a text frame, one starting 0xff with a close (4001).
 */
function echoServer(tls?: { cert: string; key: string }) {
  const requests: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    ...(tls && { cert: tls.cert, key: tls.key }),
  }, (request) => {
    requests.push(new URL(request.url).pathname);
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const first = new Uint8Array(event.data)[0];
      if (first === 0xff) socket.close(4001, "asked to");
      else if (first === 0xfe) socket.send("a text frame");
      else socket.send(event.data);
    };
    return response;
  });
  const scheme = tls ? "wss" : "ws";
  return { server, requests, url: `${scheme}://127.0.0.1:${server.addr.port}/v1/device` };
}

async function refusal(attempt: Promise<Transport>): Promise<TlsError> {
  const error = await attempt.then(
    (transport) => {
      transport.close();
      throw new Error("the connection was accepted");
    },
    (error) => error,
  );
  assert.ok(error instanceof TlsError, `a TlsError, got ${error}`);
  return error;
}

Deno.test("connectNodeWebSocket() trusts a server through `ca`, carries binary and text frames both ways, and reports the close", async () => {
  const cert = await selfSignedCertificate();
  const { server, url } = echoServer(cert);
  try {
    const transport = await connectNodeWebSocket(url, { ca: cert.ca });
    assert.ok(transport.isOpen);
    const frame = new Uint8Array([1, 2, 3, 250, 251]);
    transport.send(frame);
    const incoming = transport[Symbol.asyncIterator]();
    assert.deepEqual((await incoming.next()).value, new Uint8Array([1, 2, 3, 250, 251]));
    assert.deepEqual(frame, new Uint8Array([1, 2, 3, 250, 251]), "masking did not touch the caller's bytes");
    transport.send(new Uint8Array([0xfe]));
    assert.equal((await incoming.next()).value, "a text frame");
    transport.send(new Uint8Array([0xff]));
    assert.deepEqual(await transport.closed, { code: 4001, reason: "asked to" });
    assert.equal((await incoming.next()).done, true);
    assert.equal(transport.isOpen, false);
  } finally {
    await server.shutdown();
    await cert.remove();
  }
});

Deno.test("connectNodeWebSocket() accepts an ordinary openssl certificate (CA:TRUE) given as `ca`", async () => {
  const cert = await opensslCertificate();
  const { server, url } = echoServer(cert);
  try {
    const transport = await connectNodeWebSocket(url.replace("127.0.0.1", "localhost"), { ca: cert.ca });
    transport.send(new Uint8Array([7]));
    assert.deepEqual((await transport[Symbol.asyncIterator]().next()).value, new Uint8Array([7]));
    transport.close(1000, "done");
    assert.deepEqual(await transport.closed, { code: 1000, reason: "done" });
  } finally {
    await server.shutdown();
    await cert.remove();
  }
});

Deno.test("connectNodeWebSocket() with a fingerprint accepts exactly that certificate, names unchecked, and refuses another before sending HTTP", async () => {
  const cert = await selfSignedCertificate("box.example");
  const { server, url, requests } = echoServer(cert);
  try {
    const wrong = cert.tls.fingerprint.replace(/^../, cert.tls.fingerprint.startsWith("00") ? "11" : "00");
    const error = await refusal(connectNodeWebSocket(url, { fingerprint: wrong }));
    assert.equal(error.failure, "fingerprint-mismatch");
    assert.equal(
      error.message,
      `Cannot connect to ${url}: the server's certificate does not match --insecure-fingerprint: expected ${wrong}, the server presented ${cert.tls.fingerprint}; if the server re-issued its certificate (it prints the fingerprint at start), pin the new one`,
    );
    const transport = await connectNodeWebSocket(url, { fingerprint: cert.tls.fingerprint });
    transport.close();
    await transport.closed;
    assert.deepEqual(requests, ["/v1/device"], "only the accepted connection sent its request");
  } finally {
    await server.shutdown();
    await cert.remove();
  }
});

Deno.test("connectNodeWebSocket() refuses an untrusted certificate and says to pass --ca-file or pin the fingerprint it shows", async () => {
  const cert = await selfSignedCertificate();
  const other = await selfSignedCertificate();
  const { server, url, requests } = echoServer(cert);
  try {
    const untrusted = await refusal(connectNodeWebSocket(url));
    assert.equal(untrusted.failure, "untrusted");
    assert.match(
      untrusted.message,
      /^Cannot connect to wss:\/\/127\.0\.0\.1:\d+\/v1\/device: the server's certificate is not trusted: it was issued by "ALIEN3 local CA [0-9a-f]{8}", a CA not trusted here: pass the CA that issued it with --ca-file FILE/,
    );
    assert.ok(untrusted.message.includes(`--insecure-fingerprint SHA256`));
    assert.ok(untrusted.message.endsWith(`(this server presented ${cert.tls.fingerprint})`));

    const wrongCa = await refusal(connectNodeWebSocket(url, { ca: other.ca }));
    assert.equal(wrongCa.failure, "untrusted");
    assert.match(
      wrongCa.message,
      /it was issued by "ALIEN3 local CA [0-9a-f]{8}", which is not in --ca-file/,
    );
    assert.deepEqual(requests, [], "no request was sent to a refused server");
  } finally {
    await server.shutdown();
    await cert.remove();
    await other.remove();
  }
});

Deno.test("connectNodeWebSocket() refuses a trusted certificate issued for other names, naming them", async () => {
  const cert = await selfSignedCertificate("box.example,10.9.9.9");
  const { server, url } = echoServer(cert);
  try {
    const error = await refusal(connectNodeWebSocket(url, { ca: cert.ca }));
    assert.equal(error.failure, "name-mismatch");
    assert.equal(
      error.message,
      `Cannot connect to ${url}: the server's certificate is for box.example, 10.9.9.9, not 127.0.0.1: connect by one of those names, or give the server a certificate for 127.0.0.1 (--tls-self-signed 127.0.0.1,…)`,
    );
  } finally {
    await server.shutdown();
    await cert.remove();
  }
});

Deno.test("connectNodeWebSocket() says when TLS is on one side only: ws:// to a TLS port, wss:// to a plain one", async () => {
  const cert = await selfSignedCertificate();
  const secure = echoServer(cert);
  const plain = echoServer();
  try {
    const toTls = await refusal(connectNodeWebSocket(secure.url.replace("wss:", "ws:")));
    assert.equal(toTls.failure, "server-is-tls");
    assert.match(toTls.message, /the server speaks TLS .*: connect with wss:\/\/ instead of ws:\/\/$/);
    const toPlain = await refusal(connectNodeWebSocket(plain.url.replace("ws:", "wss:"), { ca: cert.ca }));
    assert.equal(toPlain.failure, "server-not-tls");
    assert.match(
      toPlain.message,
      /does not speak TLS \(it answered in plain text\): connect with ws:\/\/ instead of wss:\/\/, or start the server with --tls-self-signed or --tls-cert\/--tls-key$/,
    );
  } finally {
    await secure.server.shutdown();
    await plain.server.shutdown();
    await cert.remove();
  }
});

Deno.test("connectNodeWebSocket() rejects a closed port with an ordinary error, to be retried", async () => {
  const { server, url } = echoServer();
  await server.shutdown();
  const error = await connectNodeWebSocket(url).then(() => null, (e) => e);
  assert.ok(error instanceof Error && !(error instanceof TlsError), String(error));
  assert.match(error.message, /^Cannot connect to ws:\/\/127\.0\.0\.1:\d+\/v1\/device: .*ECONNREFUSED/);
});
