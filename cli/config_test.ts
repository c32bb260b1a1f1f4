import assert from "node:assert/strict";
import { configPath, DEFAULT_SERVER, resolveConnection, serverUrl, UsageError } from "./config.ts";

const sources = (env: Record<string, string>, files: Record<string, string> = {}) => ({
  env: (name: string) => env[name],
  readFile: (path: string) => files[path] ?? null,
});

Deno.test("resolveConnection() prefers the flag, then the variable, then the config file", () => {
  const files = { "/h/.config/alien3/cli.json": '{"server": "http://file:1", "token": "a3o_file"}' };
  const env = { HOME: "/h", ALIEN3_TOKEN: "a3o_env" };
  const fromFile = resolveConnection({}, sources({ HOME: "/h" }, files));
  assert.deepEqual(fromFile, {
    server: "http://file:1",
    token: "a3o_file",
    serverFrom: "the config file /h/.config/alien3/cli.json",
    tokenFrom: "the config file /h/.config/alien3/cli.json",
  });
  const fromEnv = resolveConnection({}, sources(env, files));
  assert.equal(fromEnv.token, "a3o_env");
  assert.equal(fromEnv.tokenFrom, "ALIEN3_TOKEN");
  const fromFlag = resolveConnection({ token: "a3o_flag", server: "http://flag:2" }, sources(env, files));
  assert.deepEqual([fromFlag.server, fromFlag.token, fromFlag.tokenFrom], [
    "http://flag:2",
    "a3o_flag",
    "--token",
  ]);
});

Deno.test("resolveConnection() uses the default server and refuses to go without a token", () => {
  assert.equal(resolveConnection({ token: "t" }, sources({})).server, DEFAULT_SERVER);
  assert.throws(
    () => resolveConnection({}, sources({ HOME: "/h" })),
    /No operator token: .*\/h\/\.config\/alien3\/cli\.json/,
  );
});

Deno.test("configPath() follows --config, ALIEN3_CONFIG, XDG_CONFIG_HOME, then HOME", () => {
  assert.deepEqual(configPath("/x.json", () => undefined), { path: "/x.json", explicit: true });
  assert.deepEqual(
    configPath(undefined, (n) => ({ ALIEN3_CONFIG: "/y.json" } as Record<string, string>)[n]),
    {
      path: "/y.json",
      explicit: true,
    },
  );
  assert.equal(
    configPath(undefined, (n) => ({ XDG_CONFIG_HOME: "/xdg", HOME: "/h" } as Record<string, string>)[n]).path,
    "/xdg/alien3/cli.json",
  );
});

Deno.test("a named config file that is missing, not JSON or badly typed is a usage error naming it", () => {
  assert.throws(
    () => resolveConnection({ config: "/none.json", token: "t" }, sources({})),
    (error: Error) =>
      error instanceof UsageError &&
      /Cannot read config file \/none\.json: it does not exist/.test(error.message),
  );
  assert.throws(
    () => resolveConnection({ config: "/c.json" }, sources({}, { "/c.json": "{nope" })),
    /Cannot read config file \/c\.json/,
  );
  assert.throws(
    () => resolveConnection({ config: "/c.json" }, sources({}, { "/c.json": '{"token": 5}' })),
    /"token" must be a string/,
  );
});

Deno.test("serverUrl() reads ws as http, drops the device path and refuses other schemes", () => {
  assert.equal(serverUrl("ws://h:8080/v1/device", "x"), "http://h:8080");
  assert.equal(serverUrl("https://h/alien3/", "x"), "https://h/alien3");
  assert.throws(() => serverUrl("ftp://h", "--server"), /use http:\/\/ or https:\/\//);
  assert.throws(() => serverUrl("h:8080x", "--server"), UsageError);
});
