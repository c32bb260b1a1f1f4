/// <reference lib="dom" />
/** The DAG list: state and progress of each, newest first, kept current by the feed. */
import { reloadOn, type View } from "../context.ts";
import { cell, empty, errorBox, h, loading, replace } from "../dom.ts";
import { NODE_STATE_ORDER } from "../../../shared/api_views.ts";
import { clock, duration } from "../format.ts";
import type { DagSummary } from "../types.ts";
import { stateBadge } from "./devices.ts";

/** A bar with one segment per node state (running DAGs), or the final state's colour. */
export function progressBar(counts: Record<string, number>, total: number): HTMLElement {
  const done = (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.skipped ?? 0) +
    (counts.cancelled ?? 0);
  const bar = h(
    "div",
    { class: "progress", role: "img", "aria-label": `${done} of ${total} nodes done` },
    NODE_STATE_ORDER.filter((state) => (counts[state] ?? 0) > 0).map((state) => {
      const segment = h("span", {
        class: "segment",
        "data-state": state,
        title: `${counts[state]} ${state}`,
      });
      // Through the CSSOM, which the page's CSP allows (style attributes it does not).
      segment.style.flexGrow = String(counts[state]);
      return segment;
    }),
  );
  return h("div", { class: "progress-cell" }, bar, h("span", { class: "muted" }, `${done}/${total}`));
}

export const dagsView: View = (root, ctx) => {
  const body = h("div", null, loading("DAGs"));
  replace(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "DAGs"),
      h("a", { class: "button", href: "#/start" }, "Start work"),
    ),
    body,
  );
  let stopped = false;
  const load = async () => {
    try {
      const { dags } = await ctx.api.get<{ dags: DagSummary[] }>("/api/dags");
      if (stopped) return;
      if (dags.length === 0) {
        replace(body, empty("No DAG has been submitted yet.", h("a", { href: "#/start" }, "Start work")));
        return;
      }
      const now = Date.now();
      replace(
        body,
        h(
          "table",
          { class: "dags responsive", id: "dags-table" },
          h(
            "thead",
            null,
            h("tr", null, ["Name", "State", "Progress", "Created", "Duration"].map((t) => h("th", null, t))),
          ),
          h(
            "tbody",
            null,
            [...dags].reverse().map((dag) =>
              h(
                "tr",
                { "data-dag": dag.id, "data-state": dag.state },
                cell("Name", h("a", { href: `#/dags/${encodeURIComponent(dag.id)}` }, dag.name || dag.id)),
                cell("State", stateBadge(dag.state)),
                cell(
                  "Progress",
                  progressBar(
                    dag.progress ?? { [dag.state === "succeeded" ? "succeeded" : dag.state]: dag.nodes },
                    dag.nodes,
                  ),
                ),
                cell("Created", clock(dag.createdAt, now)),
                cell("Duration", duration((dag.endedAt ?? now) - dag.createdAt)),
              )
            ),
          ),
        ),
      );
    } catch (error) {
      if (!stopped) replace(body, errorBox(error, "dags-error"));
    }
  };
  const stop = reloadOn(ctx, (event) => event.event === "transition", 500, () => void load());
  return () => {
    stopped = true;
    stop();
  };
};
