/// <reference lib="dom" />
/**
 * Keys: create device keys (fleet or bound to one device name), enrollment keys and operator tokens; list
 * them (revoked ones hidden unless asked for); revoke. A new device or enrollment key is shown once, with
 * the exact client command that joins a device with it and the browser device link.
 */
import { seg } from "../api.ts";
import type { View } from "../context.ts";
import { cell, confirmButton, empty, errorBox, h, loading, replace } from "../dom.ts";
import { clock } from "../format.ts";
import type { Key } from "../types.ts";

/** The files dir the client uses by default on Linux (README, Set-up). */
const DEFAULT_FILES_DIR = "~/.local/share/alien3/files";

/** The command that joins a device to this server (the page's own origin, as devices reach it). */
export function clientCommand(origin: string, secret: string, name: string): string {
  const url = new URL(origin);
  const scheme = url.protocol === "https:" ? "wss" : "ws";
  return `deno task client --connect ${scheme}://${url.host} --key ${secret} --name ${name} --files-dir ${DEFAULT_FILES_DIR}`;
}

/** `text` shown in a `<code>` (`id`, class `kind`) beside a button that copies it. */
function copyRow(id: string, kind: "secret" | "command", text: string): HTMLElement {
  const button = h("button", { type: "button", class: "copy" }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy it";
    }
  });
  return h("div", { class: "secret-row" }, h("code", { id, class: kind }, text), button);
}

function created(key: Key & { secret: string }, deviceName: string): HTMLElement {
  const parts: Array<HTMLElement | null> = [
    h("h3", null, `New ${key.scope} key “${key.name}”: shown only now`),
    copyRow("new-secret", "secret", key.secret),
  ];
  if (key.scope === "device" || key.scope === "enroll") {
    const name = key.device ?? deviceName;
    const command = clientCommand(location.origin, key.secret, name);
    parts.push(
      h("p", null, "Join a device with it (run in a checkout of this project on the device):"),
      copyRow("client-command", "command", command),
    );
    if (key.scope === "device") {
      const link = `${location.origin}/device#key=${encodeURIComponent(key.secret)}&name=${
        encodeURIComponent(name)
      }`;
      parts.push(
        h("p", null, "Or share a screen from a browser (screen only, no input): open"),
        copyRow("browser-link", "command", link),
      );
    }
    if (key.scope === "device" && !key.device) {
      parts.push(
        h(
          "p",
          { class: "muted" },
          "A fleet key: any number of devices may join with it, each under its own --name.",
        ),
      );
    }
  } else {
    parts.push(
      h(
        "p",
        { class: "muted" },
        "Sign in to this console, use the CLI (--token) or call the REST API with it.",
      ),
    );
  }
  return h("div", { class: "created card", id: "created-key" }, parts);
}

export const keysView: View = (root, ctx) => {
  const list = h("div", null, loading("keys"));
  const showRevoked = h("input", { type: "checkbox", id: "show-revoked" });
  const createdBox = h("div");
  const scope = h(
    "select",
    { id: "key-scope" },
    h("option", { value: "device" }, "device key"),
    h("option", { value: "enroll" }, "enrollment key"),
    h("option", { value: "operator" }, "operator token"),
  );
  const name = h("input", {
    id: "key-name",
    type: "text",
    required: true,
    placeholder: "lab machines",
    maxlength: 100,
  });
  const device = h("input", {
    id: "key-device",
    type: "text",
    placeholder: "optional: lab-3",
    maxlength: 100,
  });
  const deviceRow = h(
    "div",
    { class: "field" },
    h("label", { for: "key-device" }, "Bind to device name"),
    device,
  );
  scope.addEventListener("change", () => (deviceRow.hidden = scope.value !== "device"));
  const createButton = h("button", { type: "submit", id: "create-key", class: "primary" }, "Create");
  const form = h(
    "form",
    { class: "card", id: "key-form" },
    h("h2", null, "New key"),
    h(
      "div",
      { class: "fields" },
      h("div", { class: "field" }, h("label", { for: "key-scope" }, "Kind"), scope),
      h("div", { class: "field" }, h("label", { for: "key-name" }, "Name"), name),
      deviceRow,
    ),
    h("div", { class: "row" }, createButton),
  );
  let stopped = false;
  let keys: Key[] = [];

  const render = () => {
    const shown = keys.filter((k) => showRevoked.checked || k.revokedAt === null);
    if (shown.length === 0) {
      replace(list, empty("No keys."));
      return;
    }
    replace(
      list,
      h(
        "table",
        { class: "keys responsive", id: "keys-table" },
        h(
          "thead",
          null,
          h("tr", null, ["Name", "Kind", "Device", "Created", "Revoked", ""].map((t) => h("th", null, t))),
        ),
        h(
          "tbody",
          null,
          shown.map((key) =>
            h(
              "tr",
              { "data-key": key.id, "data-name": key.name, "data-revoked": String(key.revokedAt !== null) },
              cell("Name", key.name),
              cell("Kind", key.scope),
              cell(
                "Device",
                key.device
                  ? `${key.device}${key.enrolledBy ? " (enrolled)" : ""}`
                  : key.scope === "device"
                  ? "any (fleet)"
                  : "—",
              ),
              cell("Created", clock(key.createdAt)),
              cell("Revoked", key.revokedAt === null ? "—" : clock(key.revokedAt)),
              cell(
                "",
                key.revokedAt === null
                  ? confirmButton("Revoke", "Confirm revoke", async () => {
                    try {
                      await ctx.api.delete(`/api/keys/${seg(key.id)}`);
                      await load();
                    } catch (error) {
                      list.prepend(errorBox(error, "revoke-error"));
                    }
                  }, { class: "danger revoke", "data-revoke": key.name })
                  : null,
              ),
            )
          ),
        ),
      ),
    );
  };
  const load = async () => {
    try {
      keys = (await ctx.api.get<{ keys: Key[] }>("/api/keys")).keys;
      if (!stopped) render();
    } catch (error) {
      if (!stopped) replace(list, errorBox(error, "keys-error"));
    }
  };
  showRevoked.addEventListener("change", render);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    createButton.disabled = true;
    createdBox.replaceChildren();
    try {
      const body: Record<string, string> = { scope: scope.value, name: name.value.trim() };
      if (scope.value === "device" && device.value.trim() !== "") body.device = device.value.trim();
      const key = await ctx.api.post<Key & { secret: string }>("/api/keys", body);
      replace(createdBox, created(key, device.value.trim() || "my-device"));
      name.value = "";
      device.value = "";
      await load();
    } catch (error) {
      replace(createdBox, errorBox(error, "key-error"));
    } finally {
      createButton.disabled = false;
    }
  });
  replace(
    root,
    h("div", { class: "page-head" }, h("h1", null, "Keys")),
    form,
    createdBox,
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "row spread" },
        h("h2", null, "Keys and tokens"),
        h("label", null, showRevoked, " show revoked"),
      ),
      list,
    ),
  );
  void load();
  return () => {
    stopped = true;
  };
};
