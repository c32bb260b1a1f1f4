import assert from "node:assert/strict";
import { COMMANDS } from "../cli/a3.ts";
import { GLOBAL_FLAGS } from "../cli/config.ts";
import { clientFlags } from "../client/options.ts";
import { SERVER_FLAGS } from "../server/config.ts";
import { KEYS_FLAGS } from "../server/keys_cli.ts";
import { STORE_FLAGS } from "../server/store_cli.ts";
import { type FlagSpec, HELP_FLAG } from "../shared/flags.ts";
import { runTask } from "./helpers/task.ts";

async function help(task: string, ...args: string[]): Promise<string> {
  const output = await runTask(task, ...args);
  assert.equal(output.code, 0, `${task} ${args.join(" ")} exits 0: ${output.stderr}`);
  return output.stdout;
}

/** Every flag of the table is on a line of its own, with its default and environment variable where it has them. */
function assertListsEvery(text: string, flags: readonly FlagSpec[], what: string): void {
  for (const flag of [...flags, HELP_FLAG]) {
    const line = text.split("\n").find((l) => new RegExp(`^ {2}(-\\w, | {4})--${flag.name}\\b`).test(l));
    assert.ok(line !== undefined, `${what} lists --${flag.name}:\n${text}`);
    if (flag.default !== undefined) assert.ok(line.includes(`default: ${flag.default}`), `${what}: ${line}`);
    if (flag.env !== undefined) assert.ok(line.includes(`env: ${flag.env}`), `${what}: ${line}`);
  }
}

Deno.test("--help of the server, the client, the keys and the store CLIs lists every flag and exits 0", async () => {
  const server = await help("server", "--help");
  assert.match(server, /^Usage: deno task server \[FLAGS\]$/m);
  assertListsEvery(server, SERVER_FLAGS, "server --help");
  assert.match(server, /--port N .*\(default: 8080; env: ALIEN3_PORT\)/);
  assert.match(server, /--max-frame-bytes BYTES .*default: 16777216 \(16 MiB\)/);

  const client = await help("client", "-h");
  const machine = { hostname: Deno.hostname(), os: Deno.build.os };
  assertListsEvery(client, clientFlags((name) => Deno.env.get(name), machine), "client --help");
  assert.match(client, /--max-tasks N .*\(default: 4; env: ALIEN3_MAX_TASKS\)/);

  assertListsEvery(await help("keys", "--help"), KEYS_FLAGS, "keys --help");
  assertListsEvery(await help("store", "--help"), STORE_FLAGS, "store --help");
});

Deno.test("a3 --help lists every command and the global flags; each command's --help lists its flags", async () => {
  const top = await help("a3", "--help");
  assertListsEvery(top, GLOBAL_FLAGS, "a3 --help");
  for (const command of COMMANDS) {
    const line = top.split("\n").find((l) =>
      l.startsWith(`  ${command.words.join(" ")}`) && l.endsWith(command.summary)
    );
    assert.ok(line !== undefined, `a3 --help lists ${command.words.join(" ")}`);
  }
  for (const command of COMMANDS) {
    const text = await help("a3", ...command.words, "--help");
    const name = command.words.join(" ");
    assert.match(text, new RegExp(`^Usage: deno task a3 ${name}\\b`, "m"));
    assertListsEvery(text, [...command.flags, ...GLOBAL_FLAGS], `a3 ${name} --help`);
  }
  const group = await help("a3", "dag", "-h");
  for (const sub of ["run FILE", "ls", "show ID", "cancel ID", "logs ID"]) {
    assert.match(group, new RegExp(`^ {2}${sub}\\b`, "m"));
  }
});

Deno.test("a3 act --help shows each action's arguments as read from the action schemas", async () => {
  const text = await help("a3", "act", "--help");
  assert.match(text, /^ {2}move X Y$/m);
  assert.match(text, /^ {2}click X Y \[--button left\|right\|middle\] \[--double\]$/m);
  assert.match(text, /^ {2}file-info PATH$/m);
});
