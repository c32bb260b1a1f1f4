/// <reference lib="dom" />
/**
 * Start work: a request in words for the planner (`POST /api/tasks` with `dryRun`, so the plan is shown
 * before anything runs), or a DAG pasted or uploaded as JSON. Either way the operator sees the graph and
 * the nodes, then presses Run (`POST /api/dags`) and lands on the DAG's page.
 */
import { ApiError } from "../api.ts";
import type { View } from "../context.ts";
import { errorBox, h, replace } from "../dom.ts";
import { drawGraph, layoutGraph, MAX_GRAPH_NODES } from "../graph.ts";
import type { DagSpec } from "../types.ts";

/** A DAG error detail as the server sends it in `error.details`. */
interface DagErrorDetail {
  code?: string;
  message?: string;
  node?: string;
  path?: string;
  suggestion?: string;
}

/** An error, with every DAG error the server listed. */
function refusal(error: unknown): HTMLElement {
  const box = errorBox(error, "start-error");
  const details = error instanceof ApiError ? error.details : undefined;
  const list = Array.isArray(details)
    ? details
    : details && typeof details === "object" && Array.isArray((details as { errors?: unknown }).errors)
    ? (details as { errors: unknown[] }).errors
    : [];
  if (list.length > 1 || (list.length === 1 && (list[0] as DagErrorDetail).suggestion)) {
    box.append(
      h(
        "ul",
        null,
        (list as DagErrorDetail[]).map((d) =>
          h(
            "li",
            null,
            d.code ? h("code", { class: "code" }, d.code) : null,
            ` ${d.message ?? ""}`,
            d.suggestion ? h("span", { class: "muted" }, ` (did you mean "${d.suggestion}"?)`) : null,
          )
        ),
      ),
    );
  }
  return box;
}

/** Parses pasted text as a DAG; a mistake is an `invalid-body` error, as the server would say. */
export function parseDag(text: string): DagSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "invalid-body", `Cannot read DAG: not JSON: ${(error as Error).message}`);
  }
  const nodes = (json as { nodes?: unknown })?.nodes;
  if (typeof json !== "object" || json === null || !Array.isArray(nodes)) {
    throw new ApiError(400, "invalid-dag", 'Cannot read DAG: it is {"name", "nodes": [...]}');
  }
  if (!nodes.every((n) => n && typeof n === "object" && typeof (n as { id?: unknown }).id === "string")) {
    throw new ApiError(400, "invalid-dag", "Cannot read DAG: every node needs a string id");
  }
  return json as DagSpec;
}

function targetText(target: unknown): string {
  if (!target || typeof target !== "object") return "";
  const t = target as Record<string, unknown>;
  if (typeof t.device === "string") return `on ${t.device}`;
  return `on any device with ${JSON.stringify(t)}`;
}

export const startView: View = (root, ctx) => {
  const preview = h("section", { class: "card", id: "plan-preview", hidden: true });
  const status = h("div", { id: "start-status", "aria-live": "polite" });
  let planned: DagSpec | null = null;

  const showPlan = (dag: DagSpec, note: string, warnings: string[] = []) => {
    planned = dag;
    const run = h("button", { type: "button", id: "run-plan", class: "primary" }, "Run this DAG");
    run.addEventListener("click", async () => {
      run.disabled = true;
      replace(status, h("p", { class: "loading" }, "Submitting…"));
      try {
        const created = await ctx.api.post<{ id: string }>("/api/dags", planned);
        ctx.navigate(`#/dags/${encodeURIComponent(created.id)}`);
      } catch (error) {
        replace(status, refusal(error));
        run.disabled = false;
      }
    });
    const discard = h("button", { type: "button" }, "Discard");
    discard.addEventListener("click", () => {
      planned = null;
      preview.hidden = true;
      status.replaceChildren();
    });
    const graph = dag.nodes.length <= MAX_GRAPH_NODES
      ? drawGraph(
        layoutGraph(dag.nodes.map((n) => ({ id: n.id, after: n.after ?? [], kind: n.kind ?? "?" }))),
        () => "planned",
        () => {},
      ).element
      : h("p", { class: "muted" }, `${dag.nodes.length} nodes (not drawn).`);
    replace(
      preview,
      h("h2", null, `Plan: ${dag.name ?? "unnamed"}`),
      h("p", { class: "muted" }, note),
      warnings.length ? h("ul", { class: "warnings" }, warnings.map((w) => h("li", null, w))) : null,
      h("div", { class: "graph-box" }, graph),
      h(
        "ol",
        { class: "plan-nodes" },
        dag.nodes.slice(0, 200).map((n) =>
          h(
            "li",
            { "data-node": n.id },
            h("strong", null, n.id),
            ` ${n.kind ?? ""} ${targetText(n.target)}`,
            n.after?.length ? h("span", { class: "muted" }, ` after ${n.after.join(", ")}`) : null,
            typeof n.goal === "string" ? h("p", { class: "muted" }, n.goal) : null,
            Array.isArray(n.steps) ? h("span", { class: "muted" }, ` · ${n.steps.length} steps`) : null,
          )
        ),
      ),
      h("details", null, h("summary", null, "JSON"), h("pre", null, JSON.stringify(dag, null, 2))),
      h("div", { class: "row" }, run, discard),
    );
    preview.hidden = false;
    status.replaceChildren();
    preview.scrollIntoView({ block: "nearest" });
  };

  // The planner.
  const request = h("textarea", {
    id: "request",
    rows: 3,
    placeholder: "e.g. download the report on laptop A, then upload it from the Linux box B",
  });
  const planButton = h("button", { type: "submit", id: "plan" }, "Plan it");
  const planForm = h(
    "form",
    { class: "card", id: "planner-form" },
    h("h2", null, "Describe the work"),
    h(
      "label",
      { for: "request" },
      "Request (the planner turns it into a DAG; nothing runs until you press Run)",
    ),
    request,
    h("div", { class: "row" }, planButton),
  );
  planForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (request.value.trim() === "") return;
    planButton.disabled = true;
    replace(status, h("p", { class: "loading" }, "Planning… (the model may take a while)"));
    try {
      const answer = await ctx.api.post<
        { dag: DagSpec; rounds?: number; warnings?: Array<{ message?: string } | string> }
      >(
        "/api/tasks",
        { request: request.value.trim(), dryRun: true },
      );
      const warnings = (answer.warnings ?? []).map((
        w,
      ) => (typeof w === "string" ? w : w.message ?? JSON.stringify(w)));
      showPlan(
        answer.dag,
        `Planned by the model${answer.rounds ? ` in ${answer.rounds} round(s)` : ""}.`,
        warnings,
      );
    } catch (error) {
      replace(status, refusal(error));
    } finally {
      planButton.disabled = false;
    }
  });

  // A DAG as JSON.
  const json = h("textarea", {
    id: "dag-json",
    rows: 10,
    spellcheck: "false",
    placeholder: '{"name": "…", "nodes": [...]}',
  });
  const file = h("input", { type: "file", id: "dag-file", accept: ".json,application/json" });
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (chosen) json.value = await chosen.text();
  });
  const previewButton = h("button", { type: "submit", id: "preview-dag" }, "Preview");
  const jsonForm = h(
    "form",
    { class: "card", id: "dag-form" },
    h("h2", null, "Paste or upload a DAG"),
    h(
      "p",
      { class: "muted" },
      "The JSON format of POST /api/dags (see examples/ and README, Writing a DAG); the server checks it when it runs.",
    ),
    h("label", { for: "dag-json" }, "DAG JSON"),
    json,
    h(
      "div",
      { class: "row" },
      h("label", { for: "dag-file", class: "file" }, "or a file: ", file),
      previewButton,
    ),
  );
  jsonForm.addEventListener("submit", (event) => {
    event.preventDefault();
    try {
      const dag = parseDag(json.value);
      showPlan(dag, `${dag.nodes.length} node(s), as pasted.`);
    } catch (error) {
      preview.hidden = true;
      replace(status, refusal(error));
    }
  });

  replace(
    root,
    h("div", { class: "page-head" }, h("h1", null, "Start work")),
    h("div", { class: "start-grid" }, planForm, jsonForm),
    status,
    preview,
  );
  return () => {};
};
