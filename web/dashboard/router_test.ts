import assert from "node:assert/strict";
import { parseRoute } from "./router.ts";
import { parseDag } from "./views/start.ts";
import { clientCommand } from "./views/keys.ts";
import { ApiError } from "./api.ts";

Deno.test("parseRoute() reads the device and DAG pages and falls back to the devices list", () => {
  assert.deepEqual(parseRoute("#/devices/lab-3"), ["device", "lab-3"]);
  assert.deepEqual(parseRoute("#/devices/a%20b"), ["device", "a b"]);
  assert.deepEqual(parseRoute("#/dags/7f90-1"), ["dag", "7f90-1"]);
  assert.deepEqual(parseRoute("#/dags"), ["dags", null]);
  assert.deepEqual(parseRoute("#/keys"), ["keys", null]);
  assert.deepEqual(parseRoute(""), ["devices", null]);
  assert.deepEqual(parseRoute("#/nowhere/x"), ["devices", null]);
  assert.deepEqual(parseRoute("#/devices/%E0%A4%A"), ["device", "%E0%A4%A"], "a broken escape is kept as is");
});

Deno.test("parseDag() refuses text that is not a DAG with the server's codes", () => {
  assert.equal(parseDag('{"name": "x", "nodes": [{"id": "a"}]}').nodes[0].id, "a");
  for (
    const [text, code] of [["{nope", "invalid-body"], ['{"name": "x"}', "invalid-dag"], [
      '{"nodes": [{}]}',
      "invalid-dag",
    ]]
  ) {
    assert.throws(
      () => parseDag(text),
      (error: unknown) => error instanceof ApiError && error.code === code,
      text,
    );
  }
});

Deno.test("clientCommand() joins through the page's own host, ws or wss as the page is served", () => {
  assert.equal(
    clientCommand("http://10.0.0.5:8080", "a3d_x", "lab-3"),
    "deno task client --connect ws://10.0.0.5:8080 --key a3d_x --name lab-3 --files-dir ~/.local/share/alien3/files",
  );
  assert.match(
    clientCommand("https://alien3.example", "k", "n"),
    /--connect wss:\/\/alien3\.example --key k/,
  );
});
