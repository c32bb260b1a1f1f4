// Unicode typing on X11 through a pool of keysyms bound to spare keycodes.
//
// An application turns a key event into a keysym when it handles the event, reading the keyboard map
// then, which under load is long after the key was pressed. `xdotool type` borrows a keycode per
// character and restores the map at once, so such an application sees NoSymbol (or whatever the keycode
// was borrowed for next). Here every keysym a text lacks is bound at once, each to its own spare keycode
// (one with no keysym), before any key is pressed, and the bindings stay: later calls reuse them, the
// least recently used one gives way when the pool is full, and all are cleared when the helper exits.
import { spawnSync } from "node:child_process";
import { CodedError } from "./errors.js";

const RETURN = 0xff0d;
const TAB = 0xff09;

/** The keysym that types a character, or null for a control character that no key types. */
export function keysymOf(char) {
  if (char === "\n") return RETURN;
  if (char === "\t") return TAB;
  const code = char.codePointAt(0);
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return null;
  // Latin-1 keysyms equal their code points; every other character has the keysym 0x1000000 + code point.
  return code < 0x100 ? code : 0x1000000 + code;
}

/** Keycode → its keysyms (core columns, 0 for NoSymbol), from the output of `xmodmap -pk`. */
export function parseKeymap(text) {
  const keymap = new Map();
  for (const line of text.split("\n")) {
    const keycode = /^\s*(\d+)\s/.exec(line);
    if (keycode === null) continue;
    keymap.set(Number(keycode[1]), [...line.matchAll(/0x([0-9a-f]+)/gi)].map((m) => parseInt(m[1], 16)));
  }
  return keymap;
}

/**
 * Splits keysyms into runs that each need at most `room` keysyms from the pool, in order.
 * `needsPool(keysym)` tells whether the keyboard map lacks a keysym.
 */
export function segment(keysyms, needsPool, room) {
  const runs = [];
  let run = { keysyms: [], missing: new Set() };
  for (const keysym of keysyms) {
    if (needsPool(keysym) && !run.missing.has(keysym)) {
      if (run.missing.size === room) {
        runs.push(run);
        run = { keysyms: [], missing: new Set() };
      }
      run.missing.add(keysym);
    }
    run.keysyms.push(keysym);
  }
  if (run.keysyms.length > 0) runs.push(run);
  return runs;
}

const hex = (keysym) => `0x${keysym.toString(16)}`;

/** The X side, through xmodmap (x11-xserver-utils) and xdotool; each call returns after the server has it. */
export function xTools() {
  const run = (command, args) => {
    const out = spawnSync(command, args, { encoding: "utf8" });
    if (out.error?.code === "ENOENT") {
      throw new CodedError("action-failed", `Cannot type text: ${command} is not installed`);
    }
    if (out.status !== 0) {
      throw new CodedError(
        "action-failed",
        `Cannot type text: ${command}: ${out.stderr || out.error}`.trim(),
      );
    }
    return out.stdout;
  };
  // Both columns hold the keysym, so it arrives as itself with or without Shift (no case folding).
  const binding = ([keycode, keysym]) => ["-e", `keycode ${keycode} = ${hex(keysym)} ${hex(keysym)}`];
  return {
    readKeymap: () => parseKeymap(run("xmodmap", ["-pk"])),
    bind: (pairs) => void run("xmodmap", pairs.flatMap(binding)),
    clear: (keycodes) => void run("xmodmap", keycodes.flatMap((keycode) => ["-e", `keycode ${keycode} =`])),
    // `xdotool key` presses Shift for a keysym in the second column and never remaps a bound keysym.
    press: (keysyms) => void run("xdotool", ["key", "--delay", "0", ...keysyms.map(hex)]),
  };
}

/** Pool settings: at most `capacity` bindings, and `reserve` spare keycodes left for other programs. */
export class KeysymPool {
  #x;
  #capacity;
  #reserve;
  #settleMs;
  /** keysym → keycode, least recently used first. */
  #bound = new Map();

  constructor({ x = xTools(), capacity = 16, reserve = 2, settleMs = 50 } = {}) {
    this.#x = x;
    this.#capacity = capacity;
    this.#reserve = reserve;
    this.#settleMs = settleMs;
  }

  /** Types text, binding what the keyboard map lacks first; throws a CodedError. */
  type(text) {
    const keysyms = [...text.replace(/\r\n?/g, "\n")].map((char) => {
      const keysym = keysymOf(char);
      if (keysym === null) {
        const code = char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
        throw new CodedError("schema-violation", `Cannot type text: U+${code} is a control character`);
      }
      return keysym;
    });
    const keymap = this.#x.readKeymap();
    for (const [keysym, keycode] of this.#bound) {
      if (keymap.get(keycode)?.[0] !== keysym) this.#bound.delete(keysym); // Someone else rebound it.
    }
    const ours = new Set(this.#bound.values());
    const typable = new Set();
    const spare = [];
    for (const [keycode, row] of keymap) {
      if (row.every((keysym) => keysym === 0)) spare.push(keycode);
      else if (!ours.has(keycode)) row.slice(0, 2).forEach((keysym) => typable.add(keysym)); // Plain or Shift.
    }
    const needsPool = (keysym) => !typable.has(keysym);
    const room = Math.min(this.#capacity, this.#bound.size + spare.length - this.#reserve);
    const first = keysyms.find(needsPool);
    if (first !== undefined && room < 1) {
      throw new CodedError(
        "action-failed",
        `Cannot type text: the keyboard map has no spare keycode for keysym ${hex(first)}`,
      );
    }
    const runs = segment(keysyms, needsPool, room);
    runs.forEach((run, index) => {
      // A text needing more keysyms than the pool holds rebinds keycodes typed a moment ago: give the
      // application a moment to read them first.
      if (index > 0) sleep(this.#settleMs);
      this.#bind(run.missing, spare);
      this.#x.press(run.keysyms);
    });
  }

  /** Clears every binding the pool still holds (those nobody rebound since). */
  release() {
    if (this.#bound.size === 0) return;
    const keymap = this.#x.readKeymap();
    const keycodes = [...this.#bound].filter(([keysym, keycode]) => keymap.get(keycode)?.[0] === keysym)
      .map(([, keycode]) => keycode);
    this.#bound.clear();
    if (keycodes.length > 0) this.#x.clear(keycodes);
  }

  #bind(wanted, spare) {
    const pairs = [];
    for (const keysym of wanted) {
      const keycode = this.#bound.get(keysym);
      this.#bound.delete(keysym);
      if (keycode !== undefined) this.#bound.set(keysym, keycode); // Now the most recently used.
      else {
        const free = this.#freeKeycode(wanted, spare);
        this.#bound.set(keysym, free);
        pairs.push([free, keysym]);
      }
    }
    if (pairs.length > 0) this.#x.bind(pairs);
  }

  #freeKeycode(wanted, spare) {
    if (this.#bound.size < this.#capacity && spare.length > this.#reserve) return spare.pop();
    for (const [keysym, keycode] of this.#bound) {
      if (wanted.has(keysym)) continue;
      this.#bound.delete(keysym);
      return keycode;
    }
    throw new Error("unreachable: a run never needs more keysyms than the pool has room for");
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
