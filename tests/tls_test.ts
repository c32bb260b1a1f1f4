import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { startClient } from "./helpers/client_process.ts";
import { until } from "./helpers/gateway_harness.ts";
import { freePort } from "./helpers/ports.ts";
import { startTestServer } from "./helpers/server.ts";
import { serverArgs } from "./helpers/server_process.ts";
import { opensslCertificate } from "./helpers/tls.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test("with --tls-cert/--tls-key the server serves HTTPS and a WSS device handshake", live, async () => {
  const cert = await opensslCertificate(undefined, ["basicConstraints=critical,CA:FALSE"]);
  const server = await startTestServer(["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
  const client = Deno.createHttpClient({ caCerts: [cert.ca] });
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
    assert.deepEqual((await devices.json()).devices, [], "the operator API answers over HTTPS");

    const probe = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./helpers/wss_probe.ts", import.meta.url).pathname,
        server.wsUrl,
        server.deviceKey,
      ],
      env: { DENO_CERT: cert.certFile },
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
    await cert.remove();
  }
});

const clientMain = new URL("../client/main.ts", import.meta.url).pathname;

/** Runs the real client until it exits (a refusal) and returns its exit code and stderr. */
async function clientUntilExit(args: string[]): Promise<{ code: number; stderr: string }> {
  const filesDir = await Deno.makeTempDir({ prefix: "alien3-tls-client-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", clientMain, "--files-dir", filesDir, "--log", "text", ...args],
      env: { DISPLAY: "" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(filesDir, { recursive: true });
  }
}

/** Starts the real server process and reads its start-up output up to "listening on". */
async function serverProcess(dataDir: string, flags: string[]) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(port, dataDir, ["--log", "silent", ...flags]),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server exited before it listened:\n${output}\n${await stderr}`);
    output += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* keep the pipe drained */ }
  })().catch(() => {});
  return {
    port,
    output,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await stderr;
    },
  };
}

/** Waits until the server's device list (read over HTTPS trusting `ca`) shows `name` in `state`. */
async function untilDevice(url: string, token: string, ca: string, name: string, state: string) {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    let devices: Array<{ name: string; state: string }> = [];
    await until(
      () => devices.some((d) => d.name === name && d.state === state),
      `${name} ${state}`,
      20_000,
      async () => {
        const response = await fetch(`${url}/api/devices`, {
          client,
          headers: { authorization: `Bearer ${token}` },
        });
        devices = (await response.json()).devices;
      },
    );
  } finally {
    client.close();
  }
}

Deno.test(
  "--tls-self-signed: the server prints a fingerprint and join commands, and the real client joins with each exactly as printed",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-tls-" });
    const server = await serverProcess(dataDir, ["--tls-self-signed"]);
    try {
      const fingerprint = /SHA-256 fingerprint: ([0-9A-F:]{95})\n/.exec(server.output)?.[1];
      assert.ok(fingerprint, server.output);
      const caFile = `${dataDir}/tls/ca.pem`;
      const ca = await Deno.readTextFile(caFile);
      assert.equal(
        fingerprint,
        new X509Certificate(await Deno.readTextFile(`${dataDir}/tls/cert.pem`)).fingerprint256,
      );
      assert.match(server.output, /self-signed certificate for localhost, 127\.0\.0\.1, ::1 \(created now; /);
      const operator = /operator token:\s+(a3o_\S+)/.exec(server.output)![1];
      const commands = server.output.split("\n").filter((line) => line.startsWith("  deno task client "));
      assert.deepEqual(commands.map((c) => c.trim().split(" ").slice(-2)), [
        ["--ca-file", caFile],
        ["--insecure-fingerprint", fingerprint],
      ]);
      for (const command of commands) {
        const args = command.trim().split(" ").slice(3);
        const filesDir = await Deno.makeTempDir();
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", clientMain, ...args, "--files-dir", filesDir],
          env: { DISPLAY: "" },
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        let failure: unknown = null;
        try {
          // Read over HTTPS by Deno's own TLS stack (rustls) trusting the CA: a browser's view.
          await untilDevice(`https://127.0.0.1:${server.port}`, operator, ca, "my-device", "ready");
        } catch (error) {
          failure = error;
        }
        child.kill("SIGTERM");
        const status = await child.status;
        await Deno.remove(filesDir, { recursive: true });
        if (failure !== null) throw new Error(`${command}\n${await stderr}`, { cause: failure });
        assert.equal(status.code, 0, await stderr);
        await untilDevice(`https://127.0.0.1:${server.port}`, operator, ca, "my-device", "offline");
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "--tls-self-signed keeps its certificate across restarts; new names re-issue it under the same CA: --ca-file still joins, the old pin is refused",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-tls-" });
    const flags = (names: string) => ["--tls-self-signed", names];
    try {
      const first = await startTestServer(flags("localhost,127.0.0.1"), dataDir);
      const pinned = first.selfSigned!.fingerprint;
      await first.close();
      const again = await startTestServer(flags("127.0.0.1,localhost"), dataDir);
      assert.equal(again.selfSigned!.issued, "reused");
      assert.equal(again.selfSigned!.fingerprint, pinned);
      await again.close();

      const renamed = await startTestServer(flags("localhost,127.0.0.1,box.example"), dataDir);
      try {
        assert.equal(renamed.selfSigned!.issued, "reissued");
        const url = renamed.wsUrl;
        const old = await clientUntilExit([
          "--connect",
          url,
          "--key",
          renamed.deviceKey,
          "--insecure-fingerprint",
          pinned,
        ]);
        assert.equal(old.code, 5, old.stderr);
        assert.match(
          old.stderr,
          new RegExp(
            `error: Cannot connect to .*: the server's certificate does not match --insecure-fingerprint: expected ${pinned}, the server presented ${
              renamed.selfSigned!.fingerprint
            };`,
          ),
        );
        const client = await startClient(url, renamed.deviceKey, "ca-holder", {
          extraArgs: ["--ca-file", renamed.selfSigned!.caFile],
        });
        try {
          await until(
            () => renamed.gateway.devices().some((d) => d.name === "ca-holder" && d.state === "ready"),
            "ca-holder ready",
            20_000,
          );
        } finally {
          await client.stop();
        }
      } finally {
        await renamed.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "an ordinary `openssl req -x509` certificate (CA:TRUE) served with --tls-cert/--tls-key: the real client joins with --ca-file",
  live,
  async () => {
    const cert = await opensslCertificate();
    const server = await startTestServer(["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
    const client = await startClient(
      server.wsUrl.replace("127.0.0.1", "localhost"),
      server.deviceKey,
      "openssl-box",
      {
        extraArgs: ["--ca-file", cert.certFile],
      },
    );
    try {
      await until(
        () => server.gateway.devices().some((d) => d.name === "openssl-box" && d.state === "ready"),
        "openssl-box ready",
        20_000,
      );
    } finally {
      await client.stop();
      await server.close();
      await cert.remove();
    }
  },
);

Deno.test(
  "the real client ends with exit code 5 and one line naming the TLS problem, and never joins: untrusted, wrong fingerprint, ws:// to TLS, wss:// to plain",
  live,
  async () => {
    const secure = await startTestServer(["--tls-self-signed", "localhost,127.0.0.1"]);
    const plain = await startTestServer();
    try {
      const fingerprint = secure.selfSigned!.fingerprint;
      const wrong = fingerprint.replace(/^../, fingerprint.startsWith("00") ? "11" : "00");
      const key = ["--key", secure.deviceKey];
      const [untrusted, mismatch, toTls, toPlain, noCaFile] = await Promise.all([
        clientUntilExit(["--connect", secure.wsUrl, ...key]),
        clientUntilExit(["--connect", secure.wsUrl, ...key, "--insecure-fingerprint", wrong.toLowerCase()]),
        clientUntilExit(["--connect", secure.wsUrl.replace("wss:", "ws:"), ...key]),
        clientUntilExit(["--connect", plain.wsUrl.replace("ws:", "wss:"), "--key", plain.deviceKey]),
        clientUntilExit(["--connect", secure.wsUrl, ...key, "--ca-file", `${secure.dataDir}/no-such.pem`]),
      ]);
      const lastLine = (run: { stderr: string }) => run.stderr.trim().split("\n").at(-1)!;
      assert.equal(untrusted.code, 5, untrusted.stderr);
      assert.match(
        lastLine(untrusted),
        /^error: Cannot connect to wss:\/\/127\.0\.0\.1:\d+\/v1\/device: the server's certificate is not trusted: it was issued by "ALIEN3 local CA [0-9a-f]{8}", a CA not trusted here: pass the CA that issued it with --ca-file FILE .* --insecure-fingerprint SHA256 .*\(this server presented [0-9A-F:]{95}\)$/,
      );
      assert.ok(lastLine(untrusted).endsWith(`(this server presented ${fingerprint})`));
      assert.equal(mismatch.code, 5, mismatch.stderr);
      assert.ok(
        lastLine(mismatch).includes(`expected ${wrong}, the server presented ${fingerprint}`),
        mismatch.stderr,
      );
      assert.equal(toTls.code, 5, toTls.stderr);
      assert.match(
        lastLine(toTls),
        /^error: Cannot connect to ws:\/\/.*: the server speaks TLS .*: connect with wss:\/\/ instead of ws:\/\/$/,
      );
      assert.equal(toPlain.code, 5, toPlain.stderr);
      assert.match(
        lastLine(toPlain),
        /^error: Cannot connect to wss:\/\/.*: the server at 127\.0\.0\.1:\d+ does not speak TLS/,
      );
      assert.equal(noCaFile.code, 2, noCaFile.stderr);
      assert.match(lastLine(noCaFile), /^Invalid --ca-file: cannot read .*no-such\.pem: No such file/);
      // Every client has exited: nothing more can arrive from them.
      assert.deepEqual(secure.gateway.devices(), []);
      assert.deepEqual(plain.gateway.devices(), []);
    } finally {
      await secure.close();
      await plain.close();
    }
  },
);
