import assert from "node:assert/strict";
import { parseTlsName, parseTlsNames, sameNames } from "./names.ts";
import { joinHost } from "./banner.ts";

Deno.test("parseTlsName() tells DNS names from IP addresses and normalises both", () => {
  assert.deepEqual(parseTlsName("Box.LAN"), { type: "dns", value: "box.lan" });
  assert.deepEqual(parseTlsName("*.example.test"), { type: "dns", value: "*.example.test" });
  assert.deepEqual(parseTlsName("10.0.0.2"), { type: "ip", value: "10.0.0.2" });
  assert.deepEqual(parseTlsName("0:0:0:0:0:0:0:1"), { type: "ip", value: "::1" });
  assert.deepEqual(parseTlsName("[fe80::1]"), { type: "ip", value: "fe80::1" });
  for (const bad of ["", "bad name", "-box", "box-", "a..b", "300.1.1.1", "*", "x.*.y", "::g", "a_b"]) {
    assert.equal(parseTlsName(bad), null, bad);
  }
});

Deno.test("parseTlsNames() keeps order, drops repeats and names the first bad entry", () => {
  const parsed = parseTlsNames("localhost, 127.0.0.1,LOCALHOST,,::1");
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.names.map((n) => n.value), ["localhost", "127.0.0.1", "::1"]);
  assert.deepEqual(parseTlsNames("ok.lan,no way"), {
    ok: false,
    message: `"no way" is neither a host name nor an IP address`,
  });
  assert.deepEqual(parseTlsNames(" , "), { ok: false, message: "give at least one host name or IP address" });
  assert.ok(sameNames(
    [{ type: "dns", value: "a" }, { type: "ip", value: "::1" }],
    [{ type: "ip", value: "::1" }, { type: "dns", value: "a" }],
  ));
  assert.ok(
    !sameNames([{ type: "dns", value: "a" }], [{ type: "dns", value: "a" }, { type: "dns", value: "b" }]),
  );
});

Deno.test("joinHost() dials the shown host when the certificate names it, else the certificate's first name", () => {
  const names = [{ type: "dns" as const, value: "box.lan" }, { type: "ip" as const, value: "127.0.0.1" }];
  assert.equal(joinHost(names, "127.0.0.1"), "127.0.0.1");
  assert.equal(joinHost(names, "10.1.1.1"), "box.lan");
  assert.equal(joinHost([{ type: "ip", value: "::1" }], "127.0.0.1"), "[::1]");
});
