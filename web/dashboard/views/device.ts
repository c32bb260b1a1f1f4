/// <reference lib="dom" />
/** A device's page (`#/devices/NAME`): what it is, its live screen, what it runs now and its recent actions. */
import { seg } from "../api.ts";
import type { Context, View } from "../context.ts";
import { throttle } from "../context.ts";
import { confirmButton, empty, errorBox, h, loading, replace } from "../dom.ts";
import { bytes, clock, rtt, stepLine } from "../format.ts";
import { type LiveScreen, liveScreen, screenMode } from "../screen.ts";
import type { DagSummary, DagView, Device, StepView } from "../types.ts";
import { inputLabel, mediaLabel, stateBadge } from "./devices.ts";

/** DAGs looked through for a device's history when its page opens (newest first). */
const HISTORY_DAGS = 15;
/** Nodes whose steps are fetched for that history. */
const HISTORY_NODES = 8;

function facts(ctx: Context, device: Device): HTMLElement {
  const caps = device.capabilities;
  const current = ctx.fleet.current.get(device.id) ?? [];
  const item = (
    term: string,
    ...value: Array<Node | string>
  ) => [h("dt", null, term), h("dd", null, ...value)];
  return h(
    "dl",
    { class: "facts", id: "device-facts" },
    item("State", stateBadge(device.state)),
    item(
      "OS",
      caps
        ? `${caps.os.platform} ${caps.os.version}`.trim() + (caps.os.hostname ? ` (${caps.os.hostname})` : "")
        : "—",
    ),
    item("Screens", caps?.screens.map((s) => `${s.width}×${s.height}`).join(", ") || "none"),
    item("Input", device.capabilities ? inputLabel(device) : "—"),
    item("Runs programs", caps?.run ? "yes (--allow-run)" : "no"),
    item("Tags", ...(caps?.tags.length ? caps.tags.map((t) => h("span", { class: "tag" }, t)) : ["none"])),
    item("RTT", rtt(device.rttMs)),
    item(
      "Media",
      mediaLabel(device) +
        (device.media?.bytesPerSecond ? ` · ${bytes(device.media.bytesPerSecond)}/s` : "") +
        (device.media?.peer ? ` · peer ${device.media.peer}` : ""),
    ),
    item(
      "Current node",
      ...(current.length === 0 ? ["idle"] : current.map((node) =>
        h(
          "a",
          { href: `#/dags/${encodeURIComponent(node.dagId)}`, class: "current-node" },
          `${node.nodeId} (${node.state})`,
        )
      )),
    ),
    item("Last seen", clock(device.lastSeen)),
    item(
      "Apps",
      caps && caps.apps.length > 0
        ? h(
          "details",
          null,
          h("summary", null, `${caps.apps.length} apps`),
          h("p", { class: "apps" }, caps.apps.join(", ")),
        )
        : "none",
    ),
  );
}

function actionsList(ctx: Context, deviceId: string): HTMLElement {
  const steps = ctx.fleet.steps.get(deviceId) ?? [];
  if (steps.length === 0) return empty("No recent actions on this device.");
  return h(
    "ol",
    { class: "steps", id: "device-actions" },
    steps.map((step) =>
      h(
        "li",
        {
          class: step.ok ? "ok" : "failed",
          "data-step": `${step.dagId}/${step.nodeId}/${step.attempt}/${step.index}`,
        },
        h("span", { class: "time" }, clock(step.endedAt)),
        h(
          "a",
          { href: `#/dags/${encodeURIComponent(step.dagId)}`, class: "step-node" },
          `${step.nodeId}#${step.attempt}.${step.index}`,
        ),
        h("code", null, stepLine(step.type, step.args)),
        step.ok
          ? h("span", { class: "badge ok" }, "ok")
          : h("code", { class: "code" }, step.error?.code ?? "failed"),
      )
    ),
  );
}

/** The device's recent steps from the DAGs it worked on (live ones arrive through the feed). */
async function loadHistory(ctx: Context, deviceId: string): Promise<void> {
  const { dags } = await ctx.api.get<{ dags: DagSummary[] }>("/api/dags");
  const recent = dags.slice(-HISTORY_DAGS).reverse();
  const views = await Promise.all(
    recent.map((d) => ctx.api.get<DagView>(`/api/dags/${seg(d.id)}`).catch(() => null)),
  );
  const found = views.filter((v): v is DagView => v !== null);
  ctx.fleet.learnDags(found);
  const nodes = found.flatMap((view) =>
    view.nodes
      .filter((node) => node.attempts.some((a) => a.deviceId === deviceId))
      .map((node) => ({ dagId: view.id, nodeId: node.id, at: node.attempts.at(-1)?.assignedAtMs ?? 0 }))
  ).sort((a, b) => b.at - a.at).slice(0, HISTORY_NODES);
  await Promise.all(nodes.map(async ({ dagId, nodeId }) => {
    const { steps } = await ctx.api.get<{ steps: StepView[] }>(
      `/api/dags/${seg(dagId)}/nodes/${seg(nodeId)}/steps`,
    );
    ctx.fleet.learnSteps(deviceId, dagId, nodeId, steps);
  }));
}

export const deviceView: View = (root, ctx, name) => {
  const title = h("h1", null, name ?? "");
  const factsBox = h("div", null, loading("the device"));
  const screenBox = h("div", { class: "screen-box" });
  const actionsBox = h("div", null, loading("recent actions"));
  const tools = h("div", { class: "tools" });
  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/devices" }, "Devices"), " / ", name ?? ""),
    h("div", { class: "page-head" }, title, tools),
    h(
      "div",
      { class: "device-grid" },
      h("section", { class: "card" }, h("h2", null, "Live screen"), screenBox),
      h("section", { class: "card" }, h("h2", null, "Device"), factsBox),
    ),
    h("section", { class: "card" }, h("h2", null, "Recent actions"), actionsBox),
  );
  let device: Device | null = null;
  let screen: LiveScreen | null = null;
  let historyLoaded = false;

  const showScreen = () => {
    if (device === null) return;
    const mode = screenMode(device);
    if (screen !== null && screen.mode === mode) return;
    screen?.stop();
    screen = liveScreen(ctx.api, device);
    replace(screenBox, screen.element);
  };
  const render = () => {
    if (device === null) return;
    replace(factsBox, facts(ctx, device));
    if (historyLoaded) replace(actionsBox, actionsList(ctx, device.id));
    replace(
      tools,
      device.state === "offline"
        ? confirmButton("Forget device", "Confirm: forget it", async () => {
          try {
            await ctx.api.delete(`/api/devices/${seg(device!.id)}`);
            ctx.refreshDevices();
            ctx.navigate("#/devices");
          } catch (error) {
            tools.append(errorBox(error));
          }
        })
        : null,
    );
    showScreen();
  };
  const load = async () => {
    try {
      device = await ctx.api.get<Device>(`/api/devices/${seg(name ?? "")}`);
      document.body.dataset.device = device.name;
      render();
      if (!historyLoaded) {
        await loadHistory(ctx, device.id).catch((error) => replace(actionsBox, errorBox(error)));
        historyLoaded = true;
        render();
      }
    } catch (error) {
      replace(factsBox, errorBox(error, "device-error"));
      replace(actionsBox, "");
    }
  };
  const refresh = throttle(() => void load(), 500);
  const stops = [
    ctx.onEvent((event) => {
      // The app has applied the event to the fleet already.
      if (device === null) return;
      if (event.event === "device" && event.data.deviceId === device.id) refresh();
      else if (event.event === "step" || event.event === "transition") render();
    }),
    ctx.onDevices((error) => {
      if (error !== null || device === null) return;
      const fresh = ctx.fleet.devices.get(device.id);
      if (fresh !== undefined) {
        device = fresh;
        render();
      }
    }),
    ctx.onReconnect(refresh),
  ];
  void load();
  return () => {
    stops.forEach((stop) => stop());
    refresh.cancel();
    screen?.stop();
    delete document.body.dataset.device;
  };
};
