/**
 * The planner: an operator's request in plain words becomes an Orion DAG. The model gets the request, a
 * summary of the known devices (names, OS, apps, tags, input, screens, whether they run programs) and one
 * tool, `submit_plan {dag}`, whose argument is a DAG as `POST /api/dags` takes it. The plan is validated like
 * any DAG; a refusal is sent back once with the errors, and a second refusal ends with `plan-refused`.
 */
import { dagJsonSchema } from "../../shared/dag/json_schema.ts";
import { type DagError, validateDag, type ValidDag } from "../../shared/dag/validate.ts";
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import type { DeviceView } from "../gateway/types.ts";
import { assistantTurn, type ChatMessage, type ChatModel, type ToolSpec } from "./llm.ts";

/** A plan that validated, and how it came about. */
export interface Plan {
  valid: ValidDag;
  /** Model calls it took (1, or 2 after a refusal). */
  rounds: number;
  tokens: number;
}

/** Why no plan: the DAG errors of the last attempt (and the plan itself, for the operator). */
export class PlanRefused extends FailureError {
  constructor(readonly errors: DagError[], readonly plan: unknown) {
    super(failure("plan-refused", errors.map((e) => e.message).join("; "), false));
  }
}

const SYSTEM = `You plan work for a network of computers ("devices"). Turn the operator's request into a DAG
and submit it with submit_plan. Each node runs on one device: "script" nodes list explicit steps (move, click,
type, key, launch, waitFor, clickText, run, …) and "agent" nodes give a goal in words for a vision agent.
Use "after" for dependencies, "outputs"/"inputs" to hand files between nodes (artifacts), and a target that
names a device ({"device": name}) or requirements ({"os", "apps", "tags", "input", "run"}). Only use devices,
apps and abilities the device list shows.`;

const submitPlan: ToolSpec = {
  name: "submit_plan",
  description: "Submit the plan: a DAG as the server's POST /api/dags takes it.",
  parameters: {
    type: "object",
    properties: { dag: dagParameter() },
    required: ["dag"],
  },
};

/** The published DAG JSON Schema (`GET /api/schema/dag`) as a tool parameter: without its `$schema` and title. */
function dagParameter(): Record<string, unknown> {
  const { $schema: _schema, title: _title, ...dag } = dagJsonSchema();
  return dag;
}

/** What the model is told about the devices. */
export function describeDevices(devices: readonly DeviceView[]): string {
  if (devices.length === 0) return "No devices are known.";
  return devices.map((d) => {
    const c = d.capabilities;
    const screens = c.screens.map((s) => `${s.width}x${s.height}`).join(", ") || "none";
    return `- ${d.name} (${d.state}): ${c.os.platform} ${c.os.version}; screens ${screens}; input ${
      c.input.mouse && c.input.keyboard ? "yes" : "no"
    }; runs programs ${c.run ? "yes" : "no"}; tags [${c.tags.join(", ")}]; apps [${
      c.apps.slice(0, 80).join(", ")
    }]`;
  }).join("\n");
}

/** Asks the model for a plan; throws `PlanRefused`, or a `FailureError` (`llm-failed`, `bad-model-output`). */
export async function plan(
  model: ChatModel,
  request: string,
  devices: readonly DeviceView[],
  options: { signal?: AbortSignal } = {},
): Promise<Plan> {
  const messages: ChatMessage[] = [
    { role: "system", content: SYSTEM },
    { role: "user", content: `Request: ${request}\n\nDevices:\n${describeDevices(devices)}` },
  ];
  let tokens = 0;
  for (let round = 1;; round++) {
    const reply = await model.complete({ messages, tools: [submitPlan], toolChoice: "required" }, options);
    tokens += reply.usage.totalTokens;
    const call = reply.toolCalls.find((c) => c.name === "submit_plan");
    if (call === undefined) {
      if (round === 2) {
        throw new FailureError(failure("bad-model-output", "the model called no submit_plan", false));
      }
      messages.push(assistantTurn(reply.content, undefined));
      messages.push({ role: "user", content: "Call submit_plan with the DAG." });
      continue;
    }
    messages.push(assistantTurn(reply.content, call));
    let dag: unknown;
    try {
      dag = (JSON.parse(call.arguments) as { dag?: unknown }).dag;
    } catch (error) {
      dag = undefined;
      if (round === 2) {
        throw new FailureError(failure("bad-model-output", `arguments are not JSON: ${error}`, false));
      }
    }
    const valid = validateDag(dag, { devices, allowAgents: true });
    if (valid.ok) return { valid: valid.value, rounds: round, tokens };
    if (round === 2) throw new PlanRefused(valid.error, dag);
    messages.push({
      role: "tool",
      tool_call_id: call.id,
      content: `The DAG was refused: ${
        valid.error.map((e) => e.message).join("; ")
      }. Fix it and call submit_plan again.`,
    });
  }
}
