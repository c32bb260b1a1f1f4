/** DAG commands: `dag run FILE [--watch]`, `dag ls`, `dag show ID`, `dag cancel ID`, `dag logs ID`. */
import type { DagSummary, DagView, StepView } from "../shared/api_views.ts";
import { type Command, type CommandContext, EXIT, JSON_FLAG } from "./command.ts";
import { UsageError } from "./config.ts";
import { compactJson, duration, table, truncate } from "./format.ts";
import { DeviceNames, watchDag } from "./watch.ts";

const dagPath = (id: string) => `/api/dags/${encodeURIComponent(id)}`;

/** Lines that close a watched or shown DAG: its end, and every node that did not succeed. */
export function finalSummary(view: DagView, name: (deviceId: string) => string): string[] {
  const took = view.endedAt === null ? "" : ` in ${duration(view.endedAt - view.createdAt)}`;
  const counts = new Map<string, number>();
  for (const node of view.nodes) counts.set(node.state, (counts.get(node.state) ?? 0) + 1);
  const tally = [...counts].map(([state, n]) => `${n} ${state}`).join(", ");
  const lines = [`DAG ${view.name} (${view.id}) ${view.state}${took}: ${tally}`];
  for (const node of view.nodes) {
    if (node.state === "succeeded") continue;
    const where = node.device === null ? "" : ` on ${name(node.device)}`;
    const why = node.error !== null
      ? `: ${node.error.code}: ${node.error.message}`
      : node.reason !== null
      ? `: ${node.reason}`
      : "";
    lines.push(`  node ${node.id} ${node.state}${where}${why}`);
  }
  return lines;
}

async function readDag(context: CommandContext, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await context.io.readTextFile(file);
  } catch (error) {
    throw new UsageError(`Cannot read DAG file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Cannot read DAG file ${file}: not JSON: ${(error as Error).message}`);
  }
}

const run: Command = {
  words: ["dag", "run"],
  args: "FILE",
  summary: "submit a DAG (JSON file, - for stdin); --watch follows it to its end",
  details: [
    "With --watch the exit code is the DAG's: 0 succeeded, 1 failed or cancelled. On a terminal a",
    "block is redrawn in place (nodes by state, the node on each device, elapsed); otherwise one line",
    "per change is printed. Ctrl-C stops watching; the DAG keeps running (dag cancel ID stops it).",
  ],
  flags: [
    { name: "watch", short: "w", type: "boolean", description: "Follow the DAG until it ends" },
    JSON_FLAG,
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(context) {
    const { api, io, args, values } = context;
    const dag = await readDag(context, args[0]);
    const startedAtMs = io.nowMs();
    const submitted = await api.json<{ id: string; state: string }>("POST", "/api/dags", dag);
    if (!values.watch) {
      if (values.json) io.out(JSON.stringify(submitted));
      else io.out(`Submitted DAG ${submitted.id} (${submitted.state}).`);
      return EXIT.ok;
    }
    const view = await api.get<DagView>(dagPath(submitted.id));
    const final = await watchDag(context, view, startedAtMs);
    if (values.json) io.out(JSON.stringify(final, null, 2));
    else {
      const names = new DeviceNames(context);
      await names.learn();
      for (const line of finalSummary(final, names.name)) io.out(line);
    }
    return final.state === "succeeded" ? EXIT.ok : EXIT.failed;
  },
};

const ls: Command = {
  words: ["dag", "ls"],
  args: "",
  summary: "list DAGs, live and archived",
  flags: [JSON_FLAG],
  minArgs: 0,
  maxArgs: 0,
  async run({ api, io, values }) {
    const body = await api.get<{ dags: DagSummary[] }>("/api/dags");
    if (values.json) {
      io.out(JSON.stringify(body, null, 2));
      return EXIT.ok;
    }
    if (body.dags.length === 0) {
      io.out("No DAGs.");
      return EXIT.ok;
    }
    const now = io.nowMs();
    const rows = body.dags.map((d) => [
      d.id,
      d.name,
      d.state,
      String(d.nodes),
      new Date(d.createdAt).toISOString(),
      duration((d.endedAt ?? now) - d.createdAt),
    ]);
    for (const line of table(["ID", "NAME", "STATE", "NODES", "CREATED", "TOOK"], rows)) io.out(line);
    return EXIT.ok;
  },
};

const show: Command = {
  words: ["dag", "show"],
  args: "ID",
  summary: "one DAG: its nodes, states, devices, attempts and errors",
  flags: [JSON_FLAG],
  minArgs: 1,
  maxArgs: 1,
  async run(context) {
    const { api, io, args, values } = context;
    const view = await api.get<DagView>(dagPath(args[0]));
    if (values.json) {
      io.out(JSON.stringify(view, null, 2));
      return EXIT.ok;
    }
    const names = new DeviceNames(context);
    await names.learn();
    const took = duration((view.endedAt ?? io.nowMs()) - view.createdAt);
    io.out(
      `DAG ${view.name} (${view.id}): ${view.state}, ${took}, created ${
        new Date(view.createdAt).toISOString()
      }`,
    );
    const rows = view.nodes.map((node) => [
      node.id,
      node.kind,
      node.state,
      node.device === null ? "-" : names.name(node.device),
      String(node.attempts.length),
      node.startedAt === null ? "-" : duration((node.endedAt ?? io.nowMs()) - node.startedAt),
      node.error !== null ? `${node.error.code}: ${node.error.message}` : node.reason ?? "-",
    ]);
    for (
      const line of table(["NODE", "KIND", "STATE", "DEVICE", "ATTEMPTS", "TOOK", "ERROR OR REASON"], rows)
    ) {
      io.out(line);
    }
    const troubled = view.nodes.flatMap((node) =>
      node.attempts.filter((a) => a.outcome !== "succeeded").map((a) => ({ node: node.id, ...a }))
    );
    if (troubled.length > 0) {
      io.out("Attempts that did not succeed:");
      for (const a of troubled) {
        const where = a.deviceId === null ? "server" : names.name(a.deviceId);
        const why = [a.code, a.reason].filter(Boolean).join(": ");
        io.out(`  ${a.node}#${a.attempt} on ${where}: ${a.outcome}${why ? ` (${why})` : ""}`);
      }
    }
    const { criticalPath, parallelism } = view.metrics;
    io.out(
      `Critical path: ${criticalPath.nodes.join(" → ") || "-"} (${duration(criticalPath.ms)}); ` +
        `parallelism ${parallelism}`,
    );
    return EXIT.ok;
  },
};

const cancel: Command = {
  words: ["dag", "cancel"],
  args: "ID",
  summary: "cancel a running DAG (in-flight attempts are stopped on their devices)",
  flags: [JSON_FLAG],
  minArgs: 1,
  maxArgs: 1,
  async run({ api, io, args, values }) {
    const result = await api.json<{ id: string; state: string }>("POST", `${dagPath(args[0])}/cancel`);
    io.out(values.json ? JSON.stringify(result) : `DAG ${result.id}: ${result.state}.`);
    return EXIT.ok;
  },
};

const logs: Command = {
  words: ["dag", "logs"],
  args: "ID",
  summary: "the step log: every step of every node attempt, with its result",
  flags: [
    {
      name: "node",
      type: "string",
      value: "NODE",
      default: "every node",
      description: "One node's steps only",
    },
    JSON_FLAG,
  ],
  minArgs: 1,
  maxArgs: 1,
  async run({ api, io, args, values }) {
    const view = await api.get<DagView>(dagPath(args[0]));
    const nodeIds = typeof values.node === "string" ? [values.node] : view.nodes.map((node) => node.id);
    const all: Array<{ node: string; steps: StepView[] }> = [];
    for (const nodeId of nodeIds) {
      const { steps } = await api.get<{ steps: StepView[] }>(
        `${dagPath(view.id)}/nodes/${encodeURIComponent(nodeId)}/steps`,
      );
      all.push({ node: nodeId, steps });
    }
    if (values.json) {
      io.out(JSON.stringify({ dag: view.id, nodes: all }, null, 2));
      return EXIT.ok;
    }
    const width = io.isTerminal ? Math.max(60, io.columns() - 50) : 400;
    const rows = all.flatMap(({ node, steps }) =>
      steps.map((step) => [
        node,
        `#${step.attempt}.${step.index}`,
        step.type,
        step.ok ? "ok" : step.error?.code ?? "failed",
        duration(step.endedAt - step.startedAt),
        truncate(
          step.ok
            ? `${compactJson(step.args, 80)}${
              step.output === null ? "" : ` → ${compactJson(step.output, 80)}`
            }${step.frame === null ? "" : " [frame]"}`
            : `${step.error?.message ?? ""}`,
          width,
        ),
      ])
    );
    if (rows.length === 0) {
      io.out(
        `No steps logged for DAG ${view.id}${typeof values.node === "string" ? ` node ${values.node}` : ""}.`,
      );
      return EXIT.ok;
    }
    for (const line of table(["NODE", "STEP", "TYPE", "RESULT", "TOOK", "DETAIL"], rows)) io.out(line);
    return EXIT.ok;
  },
};

/** The DAG commands. */
export const DAG_COMMANDS: readonly Command[] = [run, ls, show, cancel, logs];
