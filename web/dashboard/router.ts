/** The dashboard's routes, in the URL's fragment (nothing secret ever goes there). */

/** The views a route can name. */
export const VIEWS = ["devices", "device", "dags", "dag", "start", "approvals", "keys"] as const;
/** A view's name. */
export type ViewName = typeof VIEWS[number];

const SECTIONS: ReadonlySet<string> = new Set(["devices", "dags", "start", "approvals", "keys"]);

/** `#/devices/NAME` → `["device", "NAME"]`; anything unknown → the devices list. */
export function parseRoute(hash: string): [ViewName, string | null] {
  const [section, ...rest] = hash.replace(/^#\/?/, "").split("/");
  const joined = rest.join("/");
  let param: string | null = null;
  if (joined !== "") {
    try {
      param = decodeURIComponent(joined);
    } catch {
      param = joined;
    }
  }
  if (section === "devices" && param !== null) return ["device", param];
  if (section === "dags" && param !== null) return ["dag", param];
  if (SECTIONS.has(section) && param === null) return [section as ViewName, null];
  return ["devices", null];
}
