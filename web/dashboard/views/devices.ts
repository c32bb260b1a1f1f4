/// <reference lib="dom" />
/** The devices page: one live row per device (a card on a phone), linking to the device's own page. */
import type { Context, View } from "../context.ts";
import { cell, empty, errorBox, h, loading, replace } from "../dom.ts";
import { rtt } from "../format.ts";
import type { Device } from "../types.ts";

/** A device's state as a badge. */
export function stateBadge(state: string): HTMLElement {
  return h("span", { class: "badge state", "data-state": state }, state);
}

/** `input` (mouse and keyboard), `screen only` (a screen, no input), or `headless` (neither). */
export function inputLabel(device: Device): string {
  const input = device.capabilities?.input;
  if (!input) return "—";
  if (input.mouse && input.keyboard) return "input";
  if (input.mouse || input.keyboard) return input.mouse ? "mouse only" : "keyboard only";
  return (device.capabilities?.screens.length ?? 0) > 0 ? "screen only" : "headless";
}

/** `webrtc · 4.0 fps`, `wss · idle`, or a dash. */
export function mediaLabel(device: Device): string {
  const media = device.media;
  if (!media || media.path === null) return device.capabilities?.media.capture ? "—" : "no capture";
  return `${media.path} · ${media.fps > 0 ? `${media.fps.toFixed(1)} fps` : "idle"}`;
}

function osLabel(device: Device): string {
  const os = device.capabilities?.os;
  return os ? [os.platform, os.version].filter(Boolean).join(" ") : "—";
}

function appsCell(device: Device): HTMLElement {
  const apps = device.capabilities?.apps ?? [];
  if (apps.length === 0) return h("span", { class: "muted" }, "none");
  const shown = apps.slice(0, 3).join(", ");
  return h("span", { title: apps.join("\n") }, apps.length > 3 ? `${shown} +${apps.length - 3}` : shown);
}

function row(ctx: Context, device: Device): HTMLTableRowElement {
  const current = ctx.fleet.current.get(device.id) ?? [];
  const href = `#/devices/${encodeURIComponent(device.name)}`;
  return h(
    "tr",
    { "data-device": device.name, "data-state": device.state },
    cell("Name", h("a", { href, class: "device-link" }, device.name)),
    cell("State", stateBadge(device.state)),
    cell("OS", osLabel(device)),
    cell("Apps", appsCell(device)),
    cell(
      "Tags",
      ...(device.capabilities?.tags ?? []).map((tag) => h("span", { class: "tag" }, tag)),
    ),
    cell("Input", inputLabel(device)),
    cell("RTT", rtt(device.rttMs)),
    cell(
      "Current node",
      current.length === 0 ? h("span", { class: "muted" }, "idle") : h(
        "span",
        null,
        ...current.map((node) =>
          h("a", { href: `#/dags/${encodeURIComponent(node.dagId)}`, class: "current-node" }, node.nodeId)
        ),
      ),
    ),
    cell("Media", mediaLabel(device)),
  );
}

export const devicesView: View = (root, ctx) => {
  const body = h("div", null, loading("devices"));
  const summary = h("span", { class: "muted", id: "device-summary" });
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Devices"), summary), body);
  let loaded = false;
  const render = () => {
    const devices = ctx.fleet.sorted();
    const online = devices.filter((d) => d.state !== "offline").length;
    summary.textContent = loaded ? `${online} online, ${devices.length - online} offline` : "";
    if (!loaded) return;
    if (devices.length === 0) {
      replace(
        body,
        empty(
          "No device has joined yet.",
          h(
            "span",
            null,
            "Create a device key under ",
            h("a", { href: "#/keys" }, "Keys"),
            " and run the command it shows.",
          ),
        ),
      );
      return;
    }
    const table = h(
      "table",
      { class: "devices responsive", id: "devices-table" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Name", "State", "OS", "Apps", "Tags", "Input", "RTT", "Current node", "Media"].map((t) =>
            h("th", null, t)
          ),
        ),
      ),
      h("tbody", null, devices.map((device) => row(ctx, device))),
    );
    replace(body, table);
    document.body.dataset.devicesRendered = String(devices.length);
    performance.mark("devices-rendered");
  };
  const stops = [
    ctx.onDevices((error) => {
      if (error !== null) {
        if (!loaded) replace(body, errorBox(error, "devices-error"));
        return;
      }
      loaded = true;
      render();
    }),
    ctx.onEvent((event) => {
      if (event.event === "device" || (event.event === "transition" && event.data.kind === "node")) render();
    }),
  ];
  if (ctx.fleet.devices.size > 0) {
    loaded = true;
    render();
  }
  ctx.refreshDevices();
  return () => stops.forEach((stop) => stop());
};
