/** Bearer-token middleware: no or wrong token → 401; a key of the wrong scope → 403. */
import type { MiddlewareHandler } from "hono";
import type { KeyRecord, KeyScope, KeyVerifier } from "../auth/types.ts";
import { HttpError } from "./errors.ts";

/** Variables the middleware sets on the context. */
export type AuthVariables = { key: KeyRecord };

/** Requires a live key of `scope` in `Authorization: Bearer <token>`. */
export function requireScope(
  keys: KeyVerifier,
  scope: KeyScope,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match === null) throw new HttpError("unauthorized", "Cannot authenticate: missing bearer token");
    const key = keys.verify(match[1]);
    if (key === null) {
      throw new HttpError("unauthorized", "Cannot authenticate: token is wrong or revoked");
    }
    if (key.scope !== scope) {
      const article = /^[aeiou]/.test(key.scope) ? "an" : "a";
      throw new HttpError(
        "wrong-scope",
        `Cannot authorize: ${article} ${key.scope} key cannot use ${scope} routes`,
      );
    }
    c.set("key", key);
    await next();
  };
}
