/// <reference lib="dom" />
/** Actions held at a confirmation gate, live: approve or reject each. */
import { reloadOn, type View } from "../context.ts";
import { empty, errorBox, h, loading, replace } from "../dom.ts";
import { approvalCard } from "../node_panel.ts";
import type { Approval } from "../types.ts";

export const approvalsView: View = (root, ctx) => {
  const body = h("div", { id: "approvals" }, loading("held actions"));
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Approvals")), body);
  let stopped = false;
  const load = async () => {
    try {
      const { approvals } = await ctx.api.get<{ approvals: Approval[] }>("/api/approvals");
      if (stopped) return;
      replace(
        body,
        approvals.length === 0
          ? empty(
            "No action is waiting for approval.",
            'Nodes with "approval": "each-action" or "risky" hold actions here.',
          )
          : approvals.map((approval) =>
            h(
              "div",
              null,
              h(
                "p",
                { class: "muted" },
                "DAG ",
                h("a", { href: `#/dags/${encodeURIComponent(approval.dagId)}` }, approval.dagId),
              ),
              approvalCard(ctx, approval, () => void load()),
            )
          ),
      );
    } catch (error) {
      if (!stopped) replace(body, errorBox(error));
    }
  };
  const stop = reloadOn(ctx, (event) => event.event === "approval", 300, () => void load());
  return () => {
    stopped = true;
    stop();
  };
};
