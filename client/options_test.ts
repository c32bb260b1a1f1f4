import assert from "node:assert/strict";
import { defaultFilesDir, normalizeFingerprint, parseClientOptions } from "./options.ts";

const noEnv = () => undefined;
const defaults = { hostname: "box.local", os: "linux" };

Deno.test("parseClientOptions() reads flags, splits tags and defaults the name to the hostname", () => {
  const result = parseClientOptions(
    ["--connect", "ws://127.0.0.1:8080", "--key", "k", "--tags", "a, b"],
    noEnv,
    defaults,
  );
  assert.ok(result.ok);
  assert.equal(result.options.name, "box.local");
  assert.deepEqual(result.options.tags, ["a", "b"]);
  assert.equal(result.options.log, "text");
  assert.equal(
    result.options.connect,
    "ws://127.0.0.1:8080/v1/device",
    "a bare server URL gets the device path",
  );
});

Deno.test("parseClientOptions() names the flag at fault", () => {
  const missingKey = parseClientOptions(["--connect", "ws://h:1"], noEnv, defaults);
  assert.ok(!missingKey.ok);
  assert.match(missingKey.message, /--key/);
  const badUrl = parseClientOptions(["--connect", "http://h", "--key", "k"], noEnv, defaults);
  assert.ok(!badUrl.ok);
  assert.match(badUrl.message, /--connect/);
  const unknown = parseClientOptions(["--bogus"], noEnv, defaults);
  assert.ok(!unknown.ok);
});

Deno.test("defaultFilesDir() follows each platform's data directory", () => {
  const env = (name: string) => ({ HOME: "/home/u", LOCALAPPDATA: "C:\\L" } as Record<string, string>)[name];
  assert.equal(defaultFilesDir(env, "linux"), "/home/u/.local/share/alien3/files");
  assert.equal(defaultFilesDir(env, "darwin"), "/home/u/Library/Application Support/alien3/files");
  assert.equal(defaultFilesDir(env, "windows"), "C:\\L\\alien3\\files");
});

Deno.test("parseClientOptions() takes --max-tasks (or ALIEN3_MAX_TASKS), 4 by default, and refuses 0", () => {
  const base = ["--connect", "ws://h:1", "--key", "k"];
  const byDefault = parseClientOptions(base, noEnv, defaults);
  assert.ok(byDefault.ok);
  assert.equal(byDefault.options.maxTasks, 4);
  const flag = parseClientOptions([...base, "--max-tasks", "12"], noEnv, defaults);
  assert.ok(flag.ok);
  assert.equal(flag.options.maxTasks, 12);
  const env = parseClientOptions(base, (name) => name === "ALIEN3_MAX_TASKS" ? "2" : undefined, defaults);
  assert.ok(env.ok);
  assert.equal(env.options.maxTasks, 2);
  const zero = parseClientOptions([...base, "--max-tasks", "0"], noEnv, defaults);
  assert.ok(!zero.ok);
  assert.match(zero.message, /^Invalid --max-tasks: /);
});

Deno.test("parseClientOptions() takes --ca-file or --insecure-fingerprint for a wss:// server, not both, not for ws://", () => {
  const wss = ["--connect", "wss://box.lan:8443", "--key", "k"];
  const ca = parseClientOptions([...wss, "--ca-file", "/etc/alien3/ca.pem"], noEnv, defaults);
  assert.ok(ca.ok);
  assert.equal(ca.options.caFile, "/etc/alien3/ca.pem");
  const hex = "ab".repeat(32);
  const pinned = parseClientOptions([...wss, "--insecure-fingerprint", hex], noEnv, defaults);
  assert.ok(pinned.ok);
  assert.equal(pinned.options.insecureFingerprint, Array(32).fill("AB").join(":"));
  const env = (name: string) => name === "ALIEN3_INSECURE_FINGERPRINT" ? hex : undefined;
  const fromEnv = parseClientOptions(wss, env, defaults);
  assert.ok(fromEnv.ok);
  assert.equal(fromEnv.options.insecureFingerprint, Array(32).fill("AB").join(":"));

  const short = parseClientOptions([...wss, "--insecure-fingerprint", "AB:CD"], noEnv, defaults);
  assert.ok(!short.ok);
  assert.match(
    short.message,
    /^Invalid --insecure-fingerprint: expected the SHA-256 fingerprint the server printed/,
  );
  const both = parseClientOptions(
    [...wss, "--ca-file", "c.pem", "--insecure-fingerprint", hex],
    noEnv,
    defaults,
  );
  assert.ok(!both.ok);
  assert.match(both.message, /^Invalid --ca-file\/--insecure-fingerprint: give one or the other/);
  const plain = parseClientOptions(
    ["--connect", "ws://h:1", "--key", "k", "--ca-file", "c.pem"],
    noEnv,
    defaults,
  );
  assert.ok(!plain.ok);
  assert.match(plain.message, /^Invalid --ca-file: only for a wss:\/\/ server/);
});

Deno.test("normalizeFingerprint() accepts colon pairs, plain hex and OpenSSL's output, in any case", () => {
  const want = Array.from({ length: 32 }, (_, i) => (i * 7 % 256).toString(16).padStart(2, "0").toUpperCase())
    .join(":");
  assert.equal(normalizeFingerprint(want), want);
  assert.equal(normalizeFingerprint(want.toLowerCase().replaceAll(":", "")), want);
  assert.equal(normalizeFingerprint(`sha256 Fingerprint=${want}`), want);
  assert.equal(normalizeFingerprint(` SHA256:${want.replaceAll(":", "")}\n`), want);
  assert.equal(normalizeFingerprint(want.slice(3)), null);
  assert.equal(normalizeFingerprint(`${want}:00`), null);
  assert.equal(normalizeFingerprint("zz".repeat(32)), null);
});

Deno.test("parseClientOptions() takes --data-dir (or ALIEN3_CLIENT_DATA_DIR); the files dir defaults into it", () => {
  const base = ["--connect", "ws://h:1", "--key", "k"];
  const env = (name: string) => ({ HOME: "/home/u" } as Record<string, string>)[name];
  const byDefault = parseClientOptions(base, env, defaults);
  assert.ok(byDefault.ok);
  assert.equal(byDefault.options.dataDir, "/home/u/.local/share/alien3");
  assert.equal(byDefault.options.filesDir, "/home/u/.local/share/alien3/files");
  const flag = parseClientOptions([...base, "--data-dir", "/srv/a3"], env, defaults);
  assert.ok(flag.ok);
  assert.deepEqual([flag.options.dataDir, flag.options.filesDir], ["/srv/a3", "/srv/a3/files"]);
  const both = parseClientOptions([...base, "--data-dir", "/srv/a3", "--files-dir", "/x"], env, defaults);
  assert.ok(both.ok);
  assert.deepEqual([both.options.dataDir, both.options.filesDir], ["/srv/a3", "/x"]);
  const fromEnv = parseClientOptions(base, (n) => n === "ALIEN3_CLIENT_DATA_DIR" ? "/e" : env(n), defaults);
  assert.ok(fromEnv.ok);
  assert.equal(fromEnv.options.dataDir, "/e");
});
