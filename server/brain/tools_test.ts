import assert from "node:assert/strict";
import { agentTools } from "./tools.ts";

Deno.test("agentTools() leave the schemas' field descriptions out of the parameters (tokens on every turn)", () => {
  const tools = agentTools();
  assert.ok(tools.every((tool) => tool.description.length > 0), "each tool keeps its own description");
  const text = JSON.stringify(tools.map((tool) => tool.parameters));
  assert.doesNotMatch(text, /"description"/);
  const click = tools.find((tool) => tool.name === "click")!.parameters as { properties: object };
  assert.deepEqual(Object.keys(click.properties), ["x", "y", "button", "double"]);
});
