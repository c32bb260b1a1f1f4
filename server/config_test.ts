import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

const noEnv = () => undefined;

Deno.test("parseConfig() uses embedded defaults with no flags", () => {
  const config = parseConfig([], noEnv);
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, "./.data");
  assert.equal(config.maxMessagesPerSecond, 1000);
  assert.ok(Object.isFrozen(config));
});

Deno.test("parseConfig() lets flags win over environment variables", () => {
  const env = (name: string) =>
    ({ ALIEN3_PORT: "9000", ALIEN3_HOST: "127.0.0.1" } as Record<string, string>)[name];
  const config = parseConfig(["--port", "9100"], env);
  assert.equal(config.port, 9100);
  assert.equal(config.host, "127.0.0.1");
});

Deno.test("parseConfig() names the flag at fault", () => {
  assert.throws(
    () => parseConfig(["--port", "eighty"], noEnv),
    (e: Error) => e instanceof ConfigError && /--port/.test(e.message),
  );
  assert.throws(() => parseConfig(["--tls-cert", "c.pem"], noEnv), /--tls-cert\/--tls-key/);
  assert.throws(() => parseConfig(["--nope"], noEnv), ConfigError);
  assert.throws(() => parseConfig(["--heartbeat-timeout-ms", "5"], noEnv), /--heartbeat-timeout-ms/);
});

Deno.test("parseConfig() refuses a frame limit the WebSocket runtime would cut short (64 MiB and up)", () => {
  assert.equal(
    parseConfig(["--max-frame-bytes", String(64 * 1024 * 1024 - 1)], noEnv).maxFrameBytes,
    67108863,
  );
  assert.throws(
    () => parseConfig(["--max-frame-bytes", String(64 * 1024 * 1024)], noEnv),
    /^ConfigError: Invalid --max-frame-bytes: at most 67108863 bytes/,
  );
});

Deno.test("parseConfig() reads --max-step-frames and ALIEN3_MAX_STEP_FRAMES, 2000 by default, 0 allowed", () => {
  assert.equal(parseConfig([], noEnv).maxStepFrames, 2000);
  assert.equal(parseConfig(["--max-step-frames", "0"], noEnv).maxStepFrames, 0);
  const env = (name: string) => name === "ALIEN3_MAX_STEP_FRAMES" ? "15" : undefined;
  assert.equal(parseConfig([], env).maxStepFrames, 15);
  assert.throws(
    () => parseConfig(["--max-step-frames=-1"], noEnv),
    /^ConfigError: Invalid --max-step-frames/,
  );
});

Deno.test("parseConfig() reads --tls-self-signed names, defaults them when the flag stands alone, and names a bad one", () => {
  assert.deepEqual(parseConfig(["--tls-self-signed", "Box.lan,10.0.0.2,box.lan"], noEnv).tlsSelfSigned, [
    { type: "dns", value: "box.lan" },
    { type: "ip", value: "10.0.0.2" },
  ]);
  assert.deepEqual(parseConfig(["--tls-self-signed", "--port", "0"], noEnv).tlsSelfSigned, [
    { type: "dns", value: "localhost" },
    { type: "ip", value: "127.0.0.1" },
    { type: "ip", value: "::1" },
  ]);
  assert.equal(parseConfig(["--tls-self-signed"], noEnv).tlsSelfSigned?.length, 3);
  const env = (name: string) => name === "ALIEN3_TLS_SELF_SIGNED" ? "[::1]" : undefined;
  assert.deepEqual(parseConfig([], env).tlsSelfSigned, [{ type: "ip", value: "::1" }]);
  assert.equal(parseConfig([], noEnv).tlsSelfSigned, undefined);
  assert.throws(
    () => parseConfig(["--tls-self-signed", "box.lan,bad name"], noEnv),
    /^ConfigError: Invalid --tls-self-signed: "bad name" is neither a host name nor an IP address$/,
  );
  assert.throws(
    () => parseConfig(["--tls-self-signed", "localhost", "--tls-cert", "c", "--tls-key", "k"], noEnv),
    /^ConfigError: Invalid --tls-self-signed: give either it or --tls-cert\/--tls-key, not both$/,
  );
});

Deno.test("parseConfig() reads --device-retention as a duration, 7 days by default, 0 for ever", () => {
  assert.equal(parseConfig([], noEnv).deviceRetentionMs, 7 * 86_400_000);
  assert.equal(parseConfig(["--device-retention", "90s"], noEnv).deviceRetentionMs, 90_000);
  assert.equal(parseConfig(["--device-retention", "12h"], noEnv).deviceRetentionMs, 12 * 3_600_000);
  assert.equal(parseConfig(["--device-retention", "0"], noEnv).deviceRetentionMs, 0);
  const env = (name: string) => name === "ALIEN3_DEVICE_RETENTION" ? "30m" : undefined;
  assert.equal(parseConfig([], env).deviceRetentionMs, 30 * 60_000);
  assert.throws(
    () => parseConfig(["--device-retention", "7"], noEnv),
    /^ConfigError: Invalid --device-retention: takes a duration such as 30m, 12h or 7d, or 0$/,
  );
});
