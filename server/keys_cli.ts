/**
 * Key management: `deno task keys create --scope device|operator|enroll --name N [--device NAME]
 * [--data-dir D]` prints the new secret alone on its last line; `keys list`; `keys revoke <id-or-name>`.
 */
import { parseArgs } from "node:util";
import { KEY_MIGRATIONS, KeyStore } from "./auth/key_store.ts";
import { DEFAULT_DATA_DIR } from "./config.ts";
import { openDatabase } from "./store/db.ts";

const USAGE = `Usage:
  deno task keys create --scope device|operator|enroll --name NAME [--device DEVICE_NAME] [--data-dir DIR]
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
      options: {
        scope: { type: "string" },
        name: { type: "string" },
        device: { type: "string" },
        "data-dir": { type: "string" },
      },
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
      if (scope !== "device" && scope !== "operator" && scope !== "enroll") {
        fail("--scope must be device, operator or enroll");
      }
      const name = parsed.values.name;
      if (!name || !/^[A-Za-z0-9._ -]{1,100}$/.test(name)) {
        fail("--name is required (letters, digits, . _ - space)");
      }
      const device = parsed.values.device;
      if (device !== undefined && scope !== "device") fail("--device binds a device key: use --scope device");
      if (device !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(device)) {
        fail("--device takes a device name (letters, digits, . _ -), the client's --name");
      }
      const { record, secret } = keys.create(scope, name, { device });
      const bound = device === undefined ? "" : `, bound to device ${device}`;
      console.log(`Created ${scope} key ${record.id} (${name}${bound}) in ${dataDir}.`);
      console.log("The secret is shown only now; store it safely:");
      console.log(secret);
      return;
    }
    case "list": {
      const rows = keys.list();
      if (rows.length === 0) return console.log("No keys.");
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
