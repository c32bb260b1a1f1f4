/**
 * Key management: `deno task keys create --scope device|operator --name N [--data-dir D]` prints the new
 * secret alone on its last line; `keys list`; `keys revoke <id-or-name>`.
 */
import { parseArgs } from "node:util";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import { DEFAULT_DATA_DIR } from "./config.ts";
import { openDatabase } from "./store/db.ts";

const USAGE = `Usage:
  deno task keys create --scope device|operator --name NAME [--data-dir DIR]
  deno task keys list [--data-dir DIR]
  deno task keys revoke ID_OR_NAME [--data-dir DIR]`;

function fail(message: string, code = 2): never {
  console.error(`error: ${message}\n${USAGE}`);
  Deno.exit(code);
}

function main(args: string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { scope: { type: "string" }, name: { type: "string" }, "data-dir": { type: "string" } },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const [command, ...rest] = parsed.positionals;
  const dataDir = parsed.values["data-dir"] ?? Deno.env.get("ALIEN3_DATA_DIR") ?? DEFAULT_DATA_DIR;
  Deno.mkdirSync(dataDir, { recursive: true });
  const keys = new KeyStore(openDatabase(dataDir, KEY_MIGRATIONS));
  switch (command) {
    case "create": {
      const scope = parsed.values.scope;
      if (scope !== "device" && scope !== "operator") fail("--scope must be device or operator");
      const name = parsed.values.name;
      if (!name || !/^[A-Za-z0-9._ -]{1,100}$/.test(name)) {
        fail("--name is required (letters, digits, . _ - space)");
      }
      const { record, secret } = keys.create(scope, name);
      console.log(`Created ${scope} key ${record.id} (${name}) in ${dataDir}.`);
      console.log("The secret is shown only now; store it safely:");
      console.log(secret);
      return;
    }
    case "list": {
      const rows = keys.list();
      if (rows.length === 0) return console.log("No keys.");
      console.log(["ID", "SCOPE", "NAME", "CREATED", "REVOKED"].join("\t"));
      for (const k of rows) {
        const revoked = k.revokedAt === null ? "-" : new Date(k.revokedAt).toISOString();
        console.log([k.id, k.scope, k.name, new Date(k.createdAt).toISOString(), revoked].join("\t"));
      }
      return;
    }
    case "revoke": {
      if (rest.length !== 1) fail("revoke takes one key id or name");
      const record = keys.revoke(rest[0]);
      if (record === null) fail(`no live key has id or unique name ${JSON.stringify(rest[0])}`, 1);
      console.log(`Revoked ${record.scope} key ${record.id} (${record.name}).`);
      return;
    }
    default:
      fail(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
  }
}

if (import.meta.main) main(Deno.args);
