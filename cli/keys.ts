/**
 * Key commands over REST (`/api/keys`): `keys list`, `keys create --scope S --name N [--device D]`,
 * `keys revoke ID_OR_NAME`.
 */
import type { KeyView } from "../shared/api_views.ts";
import { ApiError } from "./api.ts";
import { type Command, EXIT, JSON_FLAG } from "./command.ts";
import { UsageError } from "./config.ts";
import { table } from "./format.ts";

const list: Command = {
  words: ["keys", "list"],
  args: "",
  summary: "list keys and tokens (never secrets)",
  flags: [JSON_FLAG],
  minArgs: 0,
  maxArgs: 0,
  async run({ api, io, values }) {
    const body = await api.get<{ keys: KeyView[] }>("/api/keys");
    if (values.json) {
      io.out(JSON.stringify(body, null, 2));
      return EXIT.ok;
    }
    const rows = body.keys.map((k) => [
      k.id,
      k.scope,
      k.name,
      new Date(k.createdAt).toISOString(),
      k.revokedAt === null ? "-" : new Date(k.revokedAt).toISOString(),
      !k.device ? "-" : k.enrolledBy ? `${k.device} (enrolled)` : k.device,
    ]);
    for (const line of table(["ID", "SCOPE", "NAME", "CREATED", "REVOKED", "DEVICE"], rows)) io.out(line);
    return EXIT.ok;
  },
};

const create: Command = {
  words: ["keys", "create"],
  args: "",
  summary:
    "create a device key, enrollment key or operator token; the secret is printed once, alone on the last line",
  flags: [
    {
      name: "scope",
      type: "string",
      value: "device|operator|enroll",
      description: "What the key is for (enroll: mints each new device a key of its own); required",
    },
    {
      name: "device",
      type: "string",
      value: "DEVICE_NAME",
      description: "Bind a device key to this one device name (the client's --name)",
    },
    {
      name: "name",
      type: "string",
      value: "NAME",
      description: "Its name (letters, digits, . _ - space); required",
    },
    JSON_FLAG,
  ],
  minArgs: 0,
  maxArgs: 0,
  async run({ api, io, values }) {
    if (values.scope !== "device" && values.scope !== "operator" && values.scope !== "enroll") {
      throw new UsageError("--scope must be device, operator or enroll");
    }
    if (typeof values.name !== "string") throw new UsageError("--name is required");
    const device = typeof values.device === "string" ? values.device : undefined;
    const created = await api.json<KeyView & { secret: string }>("POST", "/api/keys", {
      scope: values.scope,
      name: values.name,
      ...(device === undefined ? {} : { device }),
    });
    if (values.json) {
      io.out(JSON.stringify(created, null, 2));
      return EXIT.ok;
    }
    const bound = created.device ? `, bound to device ${created.device}` : "";
    io.out(`Created ${created.scope} key ${created.id} (${created.name}${bound}).`);
    io.out("The secret is shown only now; store it safely:");
    io.out(created.secret);
    return EXIT.ok;
  },
};

const revoke: Command = {
  words: ["keys", "revoke"],
  args: "ID_OR_NAME",
  summary: "revoke a key; live connections and event streams using it end",
  flags: [JSON_FLAG],
  minArgs: 1,
  maxArgs: 1,
  async run({ api, io, args, values }) {
    const wanted = args[0];
    const { keys } = await api.get<{ keys: KeyView[] }>("/api/keys");
    let id = wanted;
    if (!keys.some((k) => k.id === wanted)) {
      const named = keys.filter((k) => k.name === wanted && k.revokedAt === null);
      if (named.length > 1) {
        throw new ApiError(
          `Cannot revoke: ${named.length} live keys are named ${wanted}; give an id`,
          null,
          null,
        );
      }
      if (named.length === 1) id = named[0].id;
    }
    const record = await api.json<KeyView>("DELETE", `/api/keys/${encodeURIComponent(id)}`);
    io.out(
      values.json ? JSON.stringify(record) : `Revoked ${record.scope} key ${record.id} (${record.name}).`,
    );
    return EXIT.ok;
  },
};

/** The key commands. */
export const KEY_COMMANDS: readonly Command[] = [list, create, revoke];
