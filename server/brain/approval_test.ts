import assert from "node:assert/strict";
import { riskOf } from "./approval.ts";
import type { ScreenText } from "./types.ts";

function screen(...texts: string[]): ScreenText {
  return {
    words: texts.map((text, i) => ({ text, x: i * 100, y: 10, width: 90, height: 20, confidence: 90 })),
    width: 1280,
    height: 800,
    engine: "test",
    ms: 0,
  };
}

Deno.test("running a program and starting a terminal or shell are risky; starting other apps is not", () => {
  assert.match(
    riskOf({ type: "run", command: "sh", args: ["-c", "rm -rf x"], timeoutMs: 1000 })!,
    /runs the program sh/,
  );
  assert.match(riskOf({ type: "launch", app: "xterm" })!, /terminal or shell/);
  assert.match(riskOf({ type: "launch", app: "GNOME Terminal" })!, /terminal or shell/);
  assert.match(riskOf({ type: "launch", app: "powershell" })!, /terminal or shell/);
  assert.equal(riskOf({ type: "launch", app: "gnome-calculator" }), null);
  assert.equal(riskOf({ type: "launch", app: "Sharpener" }), null);
  assert.equal(riskOf({ type: "click", x: 1, y: 2, button: "left", double: false }), null);
});

Deno.test("typing is risky only while the screen the decision looked at shows a password label", () => {
  const typing = { type: "type" as const, text: "hunter2" };
  assert.match(riskOf(typing, screen("User", "name:", "Password:"))!, /password/);
  assert.match(riskOf(typing, screen("Enter", "passphrase"))!, /password/);
  assert.match(riskOf(typing, screen("PIN"))!, /password/);
  assert.equal(riskOf(typing, screen("Search", "files")), null);
  assert.equal(riskOf(typing, screen("Spinning")), null);
  assert.equal(riskOf(typing), null);
  assert.equal(riskOf(typing, null), null);
});
