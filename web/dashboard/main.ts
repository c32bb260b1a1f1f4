/// <reference lib="dom" />
/**
 * The operator dashboard, served at `/`: sign in with an operator token (kept in `sessionStorage`, never in a
 * URL), then devices, DAGs, starting work, approvals and keys, live from the event stream. Routes live in the
 * fragment: `#/devices/NAME`, `#/dags/ID`. The page marks its state on `<body>` for people and tests alike:
 * `data-view`, `data-server` (`online`, `offline`, `connecting`).
 */
import { Api, type ApiError } from "./api.ts";
import type { Context, View } from "./context.ts";
import { throttle } from "./context.ts";
import { describeError, errorBox, h, replace } from "./dom.ts";
import { EventFeed, type FeedEvent, type FeedStatus } from "./events.ts";
import { Fleet } from "./fleet.ts";
import { parseRoute, type ViewName } from "./router.ts";
import type { Approval, Device } from "./types.ts";
import { approvalsView } from "./views/approvals.ts";
import { dagView } from "./views/dag.ts";
import { dagsView } from "./views/dags.ts";
import { deviceView } from "./views/device.ts";
import { devicesView } from "./views/devices.ts";
import { keysView } from "./views/keys.ts";
import { startView } from "./views/start.ts";

const TOKEN_KEY = "alien3.operatorToken";

const ROUTES: Record<ViewName, { view: View; nav: string; title: string }> = {
  devices: { view: devicesView, nav: "devices", title: "Devices" },
  device: { view: deviceView, nav: "devices", title: "Device" },
  dags: { view: dagsView, nav: "dags", title: "DAGs" },
  dag: { view: dagView, nav: "dags", title: "DAG" },
  start: { view: startView, nav: "start", title: "Start work" },
  approvals: { view: approvalsView, nav: "approvals", title: "Approvals" },
  keys: { view: keysView, nav: "keys", title: "Keys" },
};

const app = document.getElementById("app")!;

function signIn(notice?: { code: string | null; message: string }): void {
  document.body.dataset.view = "signin";
  document.body.dataset.server = "";
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "a3o_…",
    required: true,
  });
  const status = h("div", { id: "signin-status", "aria-live": "polite" });
  if (notice) status.append(errorBox(notice, "signin-error"));
  const button = h("button", { type: "submit", id: "signin" }, "Sign in");
  const form = h(
    "form",
    { class: "signin card", id: "signin-form" },
    h("h1", null, "ALIEN3 operator console"),
    h("label", { for: "token" }, "Operator token"),
    input,
    h(
      "p",
      { class: "note" },
      "The token stays in this tab (session storage) and is sent only in request headers.",
    ),
    button,
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === "") return;
    button.disabled = true;
    replace(status, h("p", { class: "loading" }, "Checking the token…"));
    try {
      const api = new Api({ token });
      await api.get("/api/devices");
      sessionStorage.setItem(TOKEN_KEY, token);
      start(token);
    } catch (error) {
      replace(status, errorBox(error, "signin-error"));
      button.disabled = false;
      input.select();
    }
  });
  replace(app, h("main", { class: "signin-page" }, form));
  input.focus();
}

function start(token: string): void {
  const fleet = new Fleet();
  const eventListeners = new Set<(event: FeedEvent) => void>();
  const reconnectListeners = new Set<() => void>();
  const deviceListeners = new Set<(error: unknown) => void>();
  let stopped = false;
  let stopView: () => void = () => {};
  let feed: EventFeed | null = null;

  const signOut = (notice?: { code: string | null; message: string }) => {
    if (stopped) return;
    stopped = true;
    sessionStorage.removeItem(TOKEN_KEY);
    stopView();
    feed?.close();
    refreshDevices.cancel();
    refreshApprovals.cancel();
    clearInterval(poll);
    removeEventListener("hashchange", route);
    signIn(notice);
  };
  const api = new Api({
    token,
    onUnauthorized: (error: ApiError) =>
      signOut({ code: error.code, message: `Signed out: ${error.message}` }),
  });

  const refreshDevices = throttle(async () => {
    try {
      const { devices } = await api.get<{ devices: Device[] }>("/api/devices");
      fleet.setDevices(devices);
      for (const listener of deviceListeners) listener(null);
    } catch (error) {
      // Views say so; the next event, poll or reconnection tries again.
      for (const listener of deviceListeners) listener(error);
    }
  }, 400);
  // RTT and frame rates change without events: a slow poll keeps them current.
  const poll = setInterval(() => {
    if (document.visibilityState === "visible" && feed?.status === "online") refreshDevices();
  }, 3000);

  const approvalCount = h("span", { class: "badge", id: "approval-count", hidden: true }, "0");
  const refreshApprovals = throttle(async () => {
    try {
      const { approvals } = await api.get<{ approvals: Approval[] }>("/api/approvals");
      approvalCount.textContent = String(approvals.length);
      approvalCount.hidden = approvals.length === 0;
    } catch {
      // As above.
    }
  }, 300);

  const ctx: Context = {
    api,
    fleet,
    onEvent: (listener) => (eventListeners.add(listener), () => eventListeners.delete(listener)),
    onReconnect: (listener) => (reconnectListeners.add(listener), () => reconnectListeners.delete(listener)),
    onDevices: (listener) => (deviceListeners.add(listener), () => deviceListeners.delete(listener)),
    refreshDevices,
    deviceName: (id) => (id ? fleet.devices.get(id)?.name ?? id : "—"),
    navigate: (hash) => void (location.hash = hash),
  };

  const statusPill = h(
    "span",
    { id: "server-status", class: "status", "data-status": "connecting" },
    "connecting…",
  );
  const banner = h("div", { id: "offline-banner", class: "banner", role: "status", hidden: true });
  const showStatus = (status: FeedStatus, detail?: { code: string | null; message: string }) => {
    if (status === "refused") {
      signOut({ code: detail?.code ?? null, message: `Signed out: ${detail?.message ?? "token refused"}` });
      return;
    }
    document.body.dataset.server = status;
    statusPill.dataset.status = status;
    statusPill.textContent = status === "online" ? "live" : status === "offline" ? "offline" : "connecting…";
    banner.hidden = status !== "offline";
    replace(
      banner,
      "The server cannot be reached; reconnecting by itself…",
      detail ? ` (${detail.message})` : "",
    );
  };
  const navLinks = Object.entries({
    devices: "Devices",
    dags: "DAGs",
    start: "Start work",
    approvals: "Approvals",
    keys: "Keys",
  }).map(([id, label]) =>
    h("a", { href: `#/${id}`, "data-nav": id }, label, id === "approvals" ? [" ", approvalCount] : null)
  );
  const main = h("main", { id: "view" });
  const signOutButton = h("button", { type: "button", id: "signout", class: "link" }, "Sign out");
  signOutButton.addEventListener("click", () => signOut());
  replace(
    app,
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/devices" }, "ALIEN3"),
      h("nav", null, navLinks),
      h("div", { class: "session" }, statusPill, signOutButton),
    ),
    banner,
    main,
  );

  function route(): void {
    if (stopped) return;
    stopView();
    const [name, param] = parseRoute(location.hash);
    const { view, nav, title } = ROUTES[name];
    document.body.dataset.view = name;
    document.title = `${param ?? title} · ALIEN3`;
    for (const link of navLinks) link.classList.toggle("active", link.dataset.nav === nav);
    main.replaceChildren();
    try {
      stopView = view(main, ctx, param);
    } catch (error) {
      stopView = () => {};
      replace(main, errorBox(describeError(error)));
    }
  }
  addEventListener("hashchange", route);

  feed = new EventFeed({
    token,
    replay: false,
    onStatus: showStatus,
    onReconnect: () => {
      refreshDevices();
      refreshApprovals();
      for (const listener of reconnectListeners) listener();
    },
    onEvent: (event) => {
      if (fleet.apply(event) !== null && event.event === "device") {
        // A new device's capabilities, a returning one's media: only the list has them.
        refreshDevices();
      }
      if (event.event === "approval") refreshApprovals();
      for (const listener of eventListeners) listener(event);
    },
  });
  refreshDevices();
  refreshApprovals();
  route();
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else signIn();
