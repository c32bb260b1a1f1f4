// Key combinations such as "ctrl+shift+t" mapped to robotjs key names.
import { CodedError } from "./errors.js";

const MODIFIERS = {
  ctrl: "control",
  control: "control",
  shift: "shift",
  alt: "alt",
  option: "alt",
  cmd: "command",
  command: "command",
  meta: "command",
  super: "command",
  win: "command",
};
const ALIASES = {
  return: "enter",
  esc: "escape",
  del: "delete",
  pgup: "pageup",
  pgdn: "pagedown",
  ins: "insert",
  spacebar: "space",
  arrowup: "up",
  arrowdown: "down",
  arrowleft: "left",
  arrowright: "right",
};
const NAMED = new Set([
  "backspace",
  "delete",
  "enter",
  "tab",
  "escape",
  "up",
  "down",
  "right",
  "left",
  "home",
  "end",
  "pageup",
  "pagedown",
  "space",
  "insert",
  "printscreen",
  "menu",
  "audio_mute",
  "audio_vol_down",
  "audio_vol_up",
  ...Array.from({ length: 24 }, (_, i) => `f${i + 1}`),
  ...Array.from({ length: 10 }, (_, i) => `numpad_${i}`),
]);
const SINGLE = /^[a-z0-9`\-=[\]\\;',./]$/;

/** Splits and checks a combination; throws `unknown-key` naming the first unknown part. */
export function resolveKeys(keys) {
  if (typeof keys !== "string" || keys.length === 0) {
    throw new CodedError("schema-violation", "Cannot press keys: none given");
  }
  const parts = keys.split("+").map((p) => p.trim().toLowerCase());
  const last = parts.pop();
  const modifiers = parts.map((part) => {
    const modifier = MODIFIERS[part];
    if (modifier === undefined) {
      throw new CodedError("unknown-key", `Cannot execute action: unknown key name: ${part}`);
    }
    return modifier;
  });
  const key = MODIFIERS[last] ?? ALIASES[last] ?? last;
  if (!NAMED.has(key) && !SINGLE.test(key) && !Object.values(MODIFIERS).includes(key)) {
    throw new CodedError("unknown-key", `Cannot execute action: unknown key name: ${last}`);
  }
  return { key, modifiers };
}
