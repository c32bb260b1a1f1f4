/**
 * Key management: `deno task keys create --scope device|operator|enroll --name N [--device NAME]
 * [--data-dir D]` prints the new secret alone on its last line; `keys list`; `keys revoke <id-or-name>`. The data dir is the server's
 * (`--data-dir`, `ALIEN3_DATA_DIR`, or its default `./.data`); `list` and `revoke` never create a store, they
 * say where they looked. Exit codes: 0 done, 1 refused (no store, no such key), 2 bad usage.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type FlagSpec,
  formatHelp,
  HELP_FLAG,
  parseArgsOptions,
  stringFlag,
  wantsHelp,
} from "../shared/flags.ts";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import { cliDataDir, DATA_DIR_FLAG } from "./config.ts";
import { databasePath, openDatabase } from "./store/db.ts";

/** The keys CLI's flags: the table its parser reads and `--help` shows. */
export const KEYS_FLAGS: readonly FlagSpec[] = [
  {
    name: "scope",
    type: "string",
    value: "device|operator|enroll",
    description: "create: what the key is for (enroll: mints each new device a key of its own)",
  },
  {
    name: "name",
    type: "string",
    value: "NAME",
    description: "create: a name (letters, digits, . _ - space)",
  },
  {
    name: "device",
    type: "string",
    value: "DEVICE_NAME",
    description: "create: bind a device key to this one device name (the client's --name)",
  },
  DATA_DIR_FLAG,
];

const USAGE = [
  "deno task keys create --scope device|operator|enroll --name NAME [--device DEVICE_NAME] [--data-dir DIR]",
  "deno task keys list [--data-dir DIR]",
  "deno task keys revoke ID_OR_NAME [--data-dir DIR]",
];

/** `deno task keys --help`. */
export function keysHelp(): string {
  return formatHelp({
    usage: USAGE,
    summary: "Keys and tokens in the server's store; works while the server runs (a revoke takes effect " +
      "within a second). Secrets are shown once, by create.",
    commands: [
      [
        "create",
        "a new device key (a3d_…), enrollment key (a3e_…) or operator token (a3o_…); the secret is the last line",
      ],
      ["list", "every key (never secrets); DEVICE is a device key's binding"],
      ["revoke ID_OR_NAME", "revoke a key; live connections using it are dropped"],
    ],
    flags: [{ title: "Flags", flags: [...KEYS_FLAGS, HELP_FLAG] }],
    notes: ["Exit codes: 0 done, 1 refused (no store in the data dir, no such key), 2 bad usage."],
  });
}

function fail(message: string, code = 2): never {
  console.error(`error: ${message}${code === 2 ? `\n${formatHelp({ usage: USAGE }).trimEnd()}` : ""}`);
  Deno.exit(code);
}

function main(args: string[]): void {
  if (wantsHelp(args)) {
    console.log(keysHelp().trimEnd());
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: parseArgsOptions(KEYS_FLAGS) });
  } catch (error) {
    fail((error as Error).message);
  }
  const [command, ...rest] = parsed.positionals;
  const { dataDir, from } = cliDataDir(stringFlag(parsed.values, "data-dir"), (name) => Deno.env.get(name));
  const source = from !== null
    ? `from ${from}`
    : "the server's default data dir; pass --data-dir DIR or set ALIEN3_DATA_DIR";
  const file = databasePath(dataDir);
  // Reading or revoking in a store that does not exist is a wrong data dir, not an empty one: say where.
  const open = (what: string) => {
    if (!existsSync(file)) fail(`Cannot ${what}: no store at ${file} (${source})`, 1);
    return new KeyStore(openDatabase(dataDir, KEY_MIGRATIONS));
  };
  switch (command) {
    case "create": {
      const scope = stringFlag(parsed.values, "scope");
      if (scope !== "device" && scope !== "operator" && scope !== "enroll") {
        fail("--scope must be device, operator or enroll");
      }
      const name = stringFlag(parsed.values, "name");
      if (!name || !/^[A-Za-z0-9._ -]{1,100}$/.test(name)) {
        fail("--name is required (letters, digits, . _ - space)");
      }
      const device = stringFlag(parsed.values, "device");
      if (device !== undefined && scope !== "device") fail("--device binds a device key: use --scope device");
      if (device !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(device)) {
        fail("--device takes a device name (letters, digits, . _ -), the client's --name");
      }
      if (!existsSync(file)) {
        Deno.mkdirSync(dataDir, { recursive: true });
        console.log(`No store at ${file} (${source}): created a new one.`);
      }
      const keys = new KeyStore(openDatabase(dataDir, KEY_MIGRATIONS));
      const { record, secret } = keys.create(scope, name, { device });
      const bound = device === undefined ? "" : `, bound to device ${device}`;
      console.log(`Created ${scope} key ${record.id} (${name}${bound}) in ${dataDir}.`);
      console.log("The secret is shown only now; store it safely:");
      console.log(secret);
      return;
    }
    case "list": {
      const rows = open("list keys").list();
      if (rows.length === 0) return console.log(`No keys in ${file}.`);
      console.log(["ID", "SCOPE", "NAME", "CREATED", "REVOKED", "DEVICE"].join("\t"));
      for (const k of rows) {
        const revoked = k.revokedAt === null ? "-" : new Date(k.revokedAt).toISOString();
        const device = k.device === null ? "-" : k.enrolledBy === null ? k.device : `${k.device} (enrolled)`;
        console.log([k.id, k.scope, k.name, new Date(k.createdAt).toISOString(), revoked, device].join("\t"));
      }
      return;
    }
    case "revoke": {
      if (rest.length !== 1) fail("revoke takes one key id or name");
      const record = open("revoke a key").revoke(rest[0]);
      if (record === null) fail(`no live key has id or unique name ${JSON.stringify(rest[0])}`, 1);
      console.log(`Revoked ${record.scope} key ${record.id} (${record.name}).`);
      return;
    }
    default:
      fail(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
  }
}

if (import.meta.main) main(Deno.args);
