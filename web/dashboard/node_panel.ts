/// <reference lib="dom" />
/**
 * A node's panel on the DAG page: state, device, timings, every attempt, an action held for approval (with
 * approve and reject), the artifacts it produced (downloaded with the token, saved through a `blob:` URL),
 * and the Brain's steps with the frame each decision used.
 */
import { type Api, seg } from "./api.ts";
import type { Context } from "./context.ts";
import { cell, errorBox, h, loading, replace } from "./dom.ts";
import { bytes, clock, duration, stepLine } from "./format.ts";
import type { Approval, Artifact, NodeView, StepView } from "./types.ts";
import { stateBadge } from "./views/devices.ts";

/** Frames fetched by themselves when a panel opens (the newest steps'); older ones on request. */
const AUTO_FRAMES = 6;

/** Saves an artifact: fetched with the token, handed to the browser as a download. */
export async function downloadArtifact(api: Api, dagId: string, name: string): Promise<void> {
  const { blob } = await api.blob(`/api/dags/${seg(dagId)}/artifacts/${seg(name)}`);
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A download button for one artifact. */
export function artifactButton(api: Api, dagId: string, artifact: Artifact): HTMLElement {
  const failure = h("span");
  const button = h(
    "button",
    { type: "button", class: "download", "data-artifact": artifact.name },
    `Download ${artifact.name}`,
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    failure.replaceChildren();
    try {
      await downloadArtifact(api, dagId, artifact.name);
    } catch (error) {
      failure.append(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "li",
    { class: "artifact" },
    button,
    h("span", { class: "muted" }, ` ${bytes(artifact.size)} · sha256 ${artifact.sha256.slice(0, 12)}…`),
    failure,
  );
}

/** Approve and reject buttons for a held action. */
export function approvalCard(ctx: Context, approval: Approval, answered: () => void): HTMLElement {
  const reason = h("input", { type: "text", placeholder: "reason (for a rejection)", class: "reason" });
  const failure = h("div");
  const answer = async (verb: "approve" | "reject") => {
    failure.replaceChildren();
    try {
      await ctx.api.post(
        `/api/dags/${seg(approval.dagId)}/nodes/${seg(approval.nodeId)}/${verb}`,
        verb === "reject" ? { reason: reason.value.trim() || "rejected in the dashboard" } : undefined,
      );
      answered();
    } catch (error) {
      failure.append(errorBox(error));
    }
  };
  const approve = h("button", { type: "button", class: "approve" }, "Approve");
  approve.addEventListener("click", () => void answer("approve"));
  const reject = h("button", { type: "button", class: "reject danger" }, "Reject");
  reject.addEventListener("click", () => void answer("reject"));
  const { type, ...args } = approval.step;
  return h(
    "div",
    { class: "approval card", "data-approval": `${approval.dagId}/${approval.nodeId}` },
    h(
      "p",
      null,
      h("strong", null, `${approval.nodeId}`),
      ` (attempt ${approval.attempt}, step ${approval.index}) waits for approval since ${
        clock(approval.since)
      }: `,
      approval.reason,
    ),
    h("pre", null, stepLine(type, args, 400)),
    h("div", { class: "row" }, approve, reason, reject),
    failure,
  );
}

function attemptsTable(ctx: Context, node: NodeView): HTMLElement {
  if (node.attempts.length === 0) return h("p", { class: "muted" }, "No attempt yet.");
  return h(
    "table",
    { class: "attempts responsive" },
    h(
      "thead",
      null,
      h("tr", null, ["#", "Device", "Started", "Ended", "Outcome"].map((t) => h("th", null, t))),
    ),
    h(
      "tbody",
      null,
      node.attempts.map((a) =>
        h(
          "tr",
          { "data-attempt": a.attempt },
          cell("#", String(a.attempt)),
          cell("Device", a.deviceId ? ctx.deviceName(a.deviceId) : "server"),
          cell("Started", h("span", { title: `assigned ${clock(a.assignedAtMs)}` }, clock(a.startedAtMs))),
          cell("Ended", clock(a.endedAtMs)),
          cell(
            "Outcome",
            a.outcome,
            a.code ? [" ", h("code", { class: "code" }, a.code)] : null,
            a.reason ? h("span", { class: "muted" }, ` ${a.reason}`) : null,
          ),
        )
      ),
    ),
  );
}

function frameSlot(api: Api, step: StepView, auto: boolean): HTMLElement {
  if (step.frame === null) return h("span");
  const slot = h("div", { class: "frame-slot" });
  const show = async () => {
    replace(slot, h("span", { class: "muted" }, "loading frame…"));
    try {
      const { blob } = await api.blob(step.frame!);
      const image = h("img", { class: "step-frame", alt: `frame of step ${step.attempt}.${step.index}` });
      image.src = URL.createObjectURL(blob);
      image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
      replace(slot, image);
    } catch (error) {
      replace(slot, errorBox(error));
    }
  };
  const button = h("button", { type: "button", class: "link" }, "Show frame");
  button.addEventListener("click", () => void show());
  slot.append(button);
  if (auto) void show();
  return slot;
}

function stepItem(api: Api, step: StepView, auto: boolean): HTMLElement {
  const output = step.output === undefined || step.output === null
    ? null
    : h("details", null, h("summary", null, "output"), h("pre", null, JSON.stringify(step.output, null, 2)));
  return h(
    "li",
    { class: step.ok ? "ok" : "failed", "data-step": `${step.attempt}.${step.index}` },
    h(
      "div",
      { class: "step-line" },
      h("span", { class: "muted" }, `#${step.attempt}.${step.index}`),
      h("code", null, stepLine(step.type, step.args)),
      step.ok
        ? h("span", { class: "badge ok" }, "ok")
        : h("code", { class: "code" }, step.error?.code ?? "failed"),
      h("span", { class: "muted" }, duration(step.endedAt - step.startedAt)),
    ),
    step.error ? h("p", { class: "step-error" }, step.error.message) : null,
    output,
    frameSlot(api, step, auto),
  );
}

/** The panel's parts that change: rebuilt on every update. */
export interface NodePanelData {
  node: NodeView;
  state: string;
  approvals: Approval[];
  artifacts: Artifact[];
}

/** Draws a node's panel into `root`; steps are fetched here (and again on `reloadSteps`). */
export class NodePanel {
  readonly #steps = h("div", null, loading("steps"));
  readonly #summary = h("div");
  #stepsAbort = new AbortController();

  constructor(
    readonly root: HTMLElement,
    readonly ctx: Context,
    readonly dagId: string,
    readonly nodeId: string,
  ) {
    root.dataset.node = nodeId;
    const close = h("button", { type: "button", class: "link close", "aria-label": "close the panel" }, "×");
    close.addEventListener("click", () => {
      root.hidden = true;
      root.dispatchEvent(new CustomEvent("panel-close", { bubbles: true }));
    });
    replace(
      root,
      h("div", { class: "panel-head" }, h("h2", null, `Node ${nodeId}`), close),
      this.#summary,
      h("h3", null, "Steps"),
      this.#steps,
    );
    root.hidden = false;
    void this.reloadSteps();
  }

  update({ node, state, approvals, artifacts }: NodePanelData): void {
    this.root.dataset.state = state;
    const held = approvals.filter((a) => a.nodeId === node.id);
    const made = artifacts.filter((a) => a.producedBy.nodeId === node.id);
    const item = (
      term: string,
      ...value: Array<Node | string | null>
    ) => [h("dt", null, term), h("dd", null, ...value)];
    replace(
      this.#summary,
      h(
        "dl",
        { class: "facts" },
        item("State", stateBadge(state)),
        item("Kind", node.kind),
        item(
          "Device",
          node.device
            ? h(
              "a",
              { href: `#/devices/${encodeURIComponent(this.ctx.deviceName(node.device))}` },
              this.ctx.deviceName(node.device),
            )
            : node.kind === "server"
            ? "the server"
            : "not assigned",
        ),
        item("After", node.after.length ? node.after.join(", ") : "nothing"),
        item("Started", clock(node.startedAt)),
        item("Ended", clock(node.endedAt)),
        item("Took", node.startedAt ? duration((node.endedAt ?? Date.now()) - node.startedAt) : "—"),
      ),
      node.error ? errorBox(node.error, "node-error") : null,
      node.reason && !node.error ? h("p", { class: "muted" }, node.reason) : null,
      held.map((approval) => approvalCard(this.ctx, approval, () => {})),
      h("h3", null, "Attempts"),
      attemptsTable(this.ctx, node),
      made.length > 0
        ? [
          h("h3", null, "Artifacts"),
          h("ul", { class: "artifacts" }, made.map((a) => artifactButton(this.ctx.api, this.dagId, a))),
        ]
        : null,
    );
  }

  async reloadSteps(): Promise<void> {
    this.#stepsAbort.abort();
    this.#stepsAbort = new AbortController();
    const signal = this.#stepsAbort.signal;
    try {
      const { steps } = await this.ctx.api.get<{ steps: StepView[] }>(
        `/api/dags/${seg(this.dagId)}/nodes/${seg(this.nodeId)}/steps`,
        signal,
      );
      if (signal.aborted) return;
      if (steps.length === 0) {
        replace(this.#steps, h("p", { class: "muted", id: "no-steps" }, "No steps yet."));
        return;
      }
      const withFrames = steps.filter((s) => s.frame !== null).slice(-AUTO_FRAMES);
      replace(
        this.#steps,
        h(
          "ol",
          { class: "steps", id: "node-steps" },
          steps.map((step) => stepItem(this.ctx.api, step, withFrames.includes(step))),
        ),
      );
    } catch (error) {
      if (!signal.aborted) replace(this.#steps, errorBox(error));
    }
  }

  close(): void {
    this.#stepsAbort.abort();
  }
}
