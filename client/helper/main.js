// ALIEN3 input helper: owns robotjs (input injection, screen capture) and sharp (encoding).
// Channel: newline-delimited JSON on stdio. Request {id, op, args}; response {id, ok, result} or
// {id, ok: false, error: {code, message}}. Capture results carry the image as base64 in JSON: one
// channel for everything, and at 1280x800 the base64 step costs well under the encode itself.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { actions } from "./actions.js";
import { KeysymPool } from "./keymap.js";

const require = createRequire(import.meta.url);
// `actions()` points robotjs at $DISPLAY before its first call (robotjs would try ":0.0" first).
const robot = require("robotjs");
const sharp = (await import("sharp")).default;
const capacity = poolCapacity(process.env.ALIEN3_KEYSYM_POOL);
const keysyms = new KeysymPool({ capacity });
const run = actions({ robot, sharp, keysyms });

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let pending = 0;
let closing = false;
lines.on("line", async (line) => {
  pending++;
  try {
    await handle(line);
  } finally {
    pending--;
    if (closing && pending === 0) shutdown();
  }
});
lines.on("close", () => {
  closing = true;
  if (pending === 0) shutdown();
});
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

// A clean exit leaves the keyboard map as it found it.
function shutdown() {
  try {
    keysyms.release();
  } catch {
    // The X server is gone: nothing left to restore.
  }
  process.exit(0);
}

// How many keysyms the typing pool keeps bound (ALIEN3_KEYSYM_POOL, default 16).
function poolCapacity(raw) {
  if (raw === undefined || raw === "") return 16;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= 200) return value;
  const message =
    `Cannot start the input helper: ALIEN3_KEYSYM_POOL must be a whole number from 1 to 200, got "${raw}"`;
  reply({ id: 0, ok: false, error: { code: "schema-violation", message } });
  process.exit(2);
}

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return reply({ id: null, ok: false, error: { code: "bad-json", message: "Cannot parse request" } });
  }
  const { id, op, args } = request ?? {};
  try {
    const result = await run(op, args ?? {});
    reply({ id, ok: true, result });
  } catch (error) {
    const code = typeof error?.code === "string" && error.code.includes("-") ? error.code : "action-failed";
    reply({ id, ok: false, error: { code, message: String(error?.message ?? error) } });
  }
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

reply({ id: 0, ok: true, result: { ready: true, pid: process.pid } });
