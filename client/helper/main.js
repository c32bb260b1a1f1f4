// ALIEN3 input helper: owns robotjs (input injection, screen capture) and sharp (encoding).
// Channel: newline-delimited JSON on stdio. Request {id, op, args}; response {id, ok, result} or
// {id, ok: false, error: {code, message}}. Capture results carry the image as base64 in JSON: one
// channel for everything, and at 1280x800 the base64 step costs well under the encode itself.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { actions } from "./actions.js";

const require = createRequire(import.meta.url);
const robot = require("robotjs");
// robotjs opens ":0.0" first and falls back to $DISPLAY only if that fails: with another X server at :0 it
// would drive (and die with) that one. The display the client was given is the one to use.
if (process.platform === "linux" && process.env.DISPLAY) robot.setXDisplayName(process.env.DISPLAY);
const sharp = (await import("sharp")).default;
const run = actions({ robot, sharp });

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let pending = 0;
let closing = false;
lines.on("line", async (line) => {
  pending++;
  try {
    await handle(line);
  } finally {
    pending--;
    if (closing && pending === 0) process.exit(0);
  }
});
lines.on("close", () => {
  closing = true;
  if (pending === 0) process.exit(0);
});

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
