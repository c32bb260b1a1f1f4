/**
 * Device commands: `devices` (a table), `act DEVICE ACTION …` (one action), `frame DEVICE -o FILE`,
 * `forget DEVICE` (an offline device leaves the list).
 */
import type { PublicDevice } from "../shared/api_views.ts";
import { ACT_FLAGS, ACTION_FORMS, actionUsage, buildAction } from "./act.ts";
import { type Command, EXIT, JSON_FLAG } from "./command.ts";
import { UsageError } from "./config.ts";
import { ago, capabilitySummary, clockTime, compactJson, table } from "./format.ts";

const path = (device: string) => `/api/devices/${encodeURIComponent(device)}`;

const devices: Command = {
  words: ["devices"],
  args: "",
  summary: "list devices: name, id, state, capabilities, last seen, round-trip time",
  flags: [JSON_FLAG],
  minArgs: 0,
  maxArgs: 0,
  async run({ api, io, values }) {
    const body = await api.get<{ devices: PublicDevice[] }>("/api/devices");
    if (values.json) {
      io.out(JSON.stringify(body, null, 2));
      return EXIT.ok;
    }
    if (body.devices.length === 0) {
      io.out("No devices.");
      return EXIT.ok;
    }
    const now = io.nowMs();
    const rows = body.devices.map((d) => [
      d.name,
      d.id,
      d.state,
      capabilitySummary(d.capabilities),
      ago(d.lastSeen, now),
      d.rttMs === null ? "-" : `${d.rttMs.toFixed(1)}ms`,
    ]);
    for (const line of table(["NAME", "ID", "STATE", "CAPABILITIES", "LAST SEEN", "RTT"], rows)) io.out(line);
    return EXIT.ok;
  },
};

const act: Command = {
  words: ["act"],
  args: "DEVICE ACTION [ARGS…]",
  summary: "run one action on a device (by name or id) and print its result",
  details: [
    "Actions (from the action schemas; fields with defaults are flags):",
    ...ACTION_FORMS.map((form) => `  ${actionUsage(form)}`),
    "Negative numbers and program arguments that start with '-' go after '--':",
    "  act box move -- -5 10      act box run -- ls -l",
  ],
  flags: [...ACT_FLAGS, JSON_FLAG],
  minArgs: 2,
  maxArgs: Number.POSITIVE_INFINITY,
  async run({ api, io, args, values }) {
    const [device, ...words] = args;
    const built = buildAction(words, values);
    if (!built.ok) throw new UsageError(built.message);
    const result = await api.json<{ actionId: string; output: unknown; rttMs: number }>(
      "POST",
      `${path(device)}/actions`,
      built.action,
    );
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return EXIT.ok;
    }
    io.out(`${built.action.type} on ${device}: ok (${result.rttMs.toFixed(1)}ms, action ${result.actionId})`);
    if (result.output !== null && result.output !== undefined) io.out(compactJson(result.output, 4000));
    return EXIT.ok;
  },
};

const frame: Command = {
  words: ["frame"],
  args: "DEVICE",
  summary: "capture a device's screen into a file",
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      value: "FILE",
      description: "Where to write the image; - for stdout; required",
    },
    {
      name: "format",
      type: "string",
      value: "png|jpeg",
      default: "png for a .png file, else jpeg",
      description: "Image format",
    },
    { name: "scale", type: "string", value: "S", default: "1", description: "Scale factor in (0, 1]" },
    { name: "quality", type: "string", value: "Q", default: "80", description: "JPEG quality, 1 to 100" },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run({ api, io, args, values }) {
    const output = values.output;
    if (typeof output !== "string" || output === "") {
      throw new UsageError("frame needs -o FILE (or -o - for stdout)");
    }
    const format = typeof values.format === "string"
      ? values.format
      : output.toLowerCase().endsWith(".png")
      ? "png"
      : "jpeg";
    if (format !== "png" && format !== "jpeg") throw new UsageError("--format is png or jpeg");
    const query = new URLSearchParams({ format });
    if (typeof values.scale === "string") query.set("scale", values.scale);
    if (typeof values.quality === "string") query.set("quality", values.quality);
    const response = await api.request("GET", `${path(args[0])}/frame?${query}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const header = (name: string) => response.headers.get(name) ?? "?";
    const summary =
      `${header("x-frame-width")}x${header("x-frame-height")} ${format}, ${bytes.byteLength} bytes, ` +
      `captured ${clockTime(Number(header("x-captured-at")))}`;
    if (output === "-") {
      io.writeBytes(bytes);
      io.err(`Wrote ${summary} to stdout.`);
    } else {
      await io.writeFile(output, bytes);
      io.out(`Wrote ${output}: ${summary}.`);
    }
    return EXIT.ok;
  },
};

const forget: Command = {
  words: ["forget"],
  args: "DEVICE",
  summary: "forget an offline device (name or id): it leaves the list until it joins again",
  flags: [JSON_FLAG],
  minArgs: 1,
  maxArgs: 1,
  async run({ api, io, args, values }) {
    const device = await api.json<PublicDevice>("DELETE", path(args[0]));
    io.out(values.json ? JSON.stringify(device) : `Forgot device ${device.name} (${device.id}).`);
    return EXIT.ok;
  },
};

/** The device commands. */
export const DEVICE_COMMANDS: readonly Command[] = [devices, act, frame, forget];
