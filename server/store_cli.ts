/**
 * Store maintenance: `deno task store backup FILE` (safe while the server runs), `store restore FILE`
 * (server stopped), `store check` (quick_check), `store truncate-log --from SEQ` (drops a damaged tail of
 * the scheduler's input log). Each takes `[--data-dir D]`. Exit codes: 0 done, 1 refused, 2 bad usage.
 */
import { parseArgs } from "node:util";
import {
  type FlagSpec,
  formatHelp,
  HELP_FLAG,
  parseArgsOptions,
  stringFlag,
  wantsHelp,
} from "../shared/flags.ts";
import { cliDataDir, DATA_DIR_FLAG } from "./config.ts";
import { truncateInputs } from "./orion/state_store.ts";
import { BackupError, backupStore, checkStoreFile, restoreStore } from "./store/backup.ts";
import { databasePath, openDatabase } from "./store/db.ts";
import { StoreOpenError } from "./store/errors.ts";

/** The store CLI's flags: the table its parser reads and `--help` shows. */
export const STORE_FLAGS: readonly FlagSpec[] = [
  DATA_DIR_FLAG,
  {
    name: "from",
    type: "string",
    value: "SEQ",
    description: "truncate-log: the first input log row to drop",
  },
];

const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ["backup FILE", "copy the store to FILE (the server may run)"],
  ["restore FILE", "put the backup FILE in place (stop the server first)"],
  ["check", "run quick_check on the store"],
  ["truncate-log --from SEQ", "drop the scheduler input log from row SEQ on"],
];

const USAGE = formatHelp({
  usage: COMMANDS.map(([command]) => `deno task store ${command} [--data-dir DIR]`),
}).trimEnd();

/** `deno task store --help`. */
export function storeHelp(): string {
  return formatHelp({
    usage: ["deno task store COMMAND [--data-dir DIR]"],
    summary: "Store maintenance: backups, restores, checks and repairs of <data-dir>/alien3.db.",
    commands: COMMANDS,
    flags: [{ title: "Flags", flags: [...STORE_FLAGS, HELP_FLAG] }],
    notes: ["Exit codes: 0 done, 1 refused, 2 bad usage."],
  });
}

function fail(message: string, code = 2): never {
  console.error(`error: ${message}${code === 2 ? `\n${USAGE}` : ""}`);
  Deno.exit(code);
}

async function main(args: string[]): Promise<void> {
  if (wantsHelp(args)) {
    console.log(storeHelp().trimEnd());
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: parseArgsOptions(STORE_FLAGS),
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const [command, ...rest] = parsed.positionals;
  const { dataDir } = cliDataDir(stringFlag(parsed.values, "data-dir"), (name) => Deno.env.get(name));
  try {
    switch (command) {
      case "backup": {
        if (rest.length !== 1) fail("backup takes one target file");
        const bytes = await backupStore(dataDir, rest[0]);
        console.log(`Backed up ${databasePath(dataDir)} to ${rest[0]} (${bytes} bytes, quick_check ok).`);
        return;
      }
      case "restore": {
        if (rest.length !== 1) fail("restore takes one backup file");
        const kept = await restoreStore(rest[0], dataDir);
        console.log(`Restored ${rest[0]} to ${databasePath(dataDir)}.`);
        if (kept !== null) console.log(`The replaced store is kept as ${kept}.`);
        return;
      }
      case "check": {
        checkStoreFile(databasePath(dataDir));
        console.log(`${databasePath(dataDir)}: quick_check ok.`);
        return;
      }
      case "truncate-log": {
        const from = Number(stringFlag(parsed.values, "from"));
        if (!Number.isInteger(from) || from < 1) {
          fail("truncate-log needs --from SEQ (a row number from the error)");
        }
        const db = openDatabase(dataDir, []);
        try {
          const dropped = truncateInputs(db, from);
          console.log(`Dropped ${dropped} input log rows from row ${from} on.`);
        } finally {
          db.close();
        }
        return;
      }
      default:
        fail(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
    }
  } catch (error) {
    if (error instanceof BackupError || error instanceof StoreOpenError) fail(error.message, 1);
    throw error;
  }
}

if (import.meta.main) await main(Deno.args);
