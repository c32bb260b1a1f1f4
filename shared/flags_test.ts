import assert from "node:assert/strict";
import { type FlagSpec, formatHelp, parseArgsOptions, stringFlag, wantsHelp } from "./flags.ts";

const FLAGS: FlagSpec[] = [
  {
    name: "data-dir",
    type: "string",
    value: "DIR",
    env: "X_DATA_DIR",
    default: "./.data",
    description: "Data",
  },
  { name: "output", short: "o", type: "string", value: "FILE", description: "Where" },
  { name: "watch", type: "boolean", description: "Follow" },
];

Deno.test("parseArgsOptions() gives node:util parseArgs each flag's type and alias", () => {
  assert.deepEqual(parseArgsOptions(FLAGS), {
    "data-dir": { type: "string" },
    output: { type: "string", short: "o" },
    watch: { type: "boolean" },
  });
});

Deno.test("wantsHelp() sees --help and -h before a --, not after", () => {
  assert.ok(wantsHelp(["dag", "run", "--help"]));
  assert.ok(wantsHelp(["-h"]));
  assert.ok(!wantsHelp(["act", "box", "run", "--", "ls", "--help"]));
  assert.ok(!wantsHelp(["--helpful"]));
});

Deno.test("formatHelp() lists usage, commands and every flag with its default and variable", () => {
  const text = formatHelp({
    usage: ["prog COMMAND", "prog other"],
    summary: "Does things.",
    commands: [["run FILE", "runs"]],
    flags: [{ title: "Flags", flags: FLAGS }],
    notes: ["Exit codes: 0."],
  });
  assert.equal(
    text,
    [
      "Usage: prog COMMAND",
      "       prog other",
      "",
      "Does things.",
      "",
      "Commands:",
      "  run FILE  runs",
      "",
      "Flags:",
      "      --data-dir DIR  Data (default: ./.data; env: X_DATA_DIR)",
      "  -o, --output FILE   Where",
      "      --watch         Follow",
      "",
      "Exit codes: 0.",
      "",
    ].join("\n"),
  );
});

Deno.test("stringFlag() reads string values only", () => {
  assert.equal(stringFlag({ a: "x", b: true }, "a"), "x");
  assert.equal(stringFlag({ a: "x", b: true }, "b"), undefined);
});
