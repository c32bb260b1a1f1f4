import assert from "node:assert/strict";
import { OperatorActionSchema } from "../shared/actions.ts";
import { ACT_FLAGS, ACTION_FORMS, actionUsage, buildAction } from "./act.ts";

Deno.test("ACTION_FORMS offers every device action but frame and the steps that look, named in kebab-case", () => {
  const types = OperatorActionSchema.options.map((schema) => schema.shape.type.value).filter((t) =>
    t !== "frame"
  );
  assert.deepEqual(ACTION_FORMS.map((form) => form.type), types);
  assert.ok(ACTION_FORMS.some((form) => form.word === "file-info"));
});

Deno.test("actionUsage() lists required fields as arguments and defaulted ones as flags", () => {
  const usage = (word: string) => actionUsage(ACTION_FORMS.find((form) => form.word === word)!);
  assert.equal(usage("move"), "move X Y");
  assert.equal(usage("click"), "click X Y [--button left|right|middle] [--double]");
  assert.equal(usage("drag"), "drag FROM_X FROM_Y TO_X TO_Y [--button left|right|middle]");
  assert.equal(usage("run"), "run COMMAND [ARGS…] [--timeout-ms N]");
  assert.equal(
    usage("wait-for"),
    "wait-for [--text TEXT] [--window TEXT] [--file TEXT] [--screen-change] [--timeout-ms N]",
  );
  assert.equal(
    usage("click-text"),
    "click-text TEXT [--button left|right|middle] [--double] [--occurrence N] [--timeout-ms N]",
  );
  assert.deepEqual(ACT_FLAGS.map((flag) => flag.name), [
    "button",
    "double",
    "dx",
    "dy",
    "timeout-ms",
    "text",
    "window",
    "file",
    "screen-change",
    "occurrence",
  ]);
  assert.equal(ACT_FLAGS[0].default, "left");
  assert.equal(ACT_FLAGS[4].default, "60000 (run), 15000 (wait-for), 5000 (click-text)");
});

Deno.test("buildAction() turns words and flags into a checked action object", () => {
  assert.deepEqual(buildAction(["move", "100", "200"], {}), {
    ok: true,
    action: { type: "move", x: 100, y: 200 },
  });
  assert.deepEqual(buildAction(["click", "1", "2"], { button: "right", double: true }), {
    ok: true,
    action: { type: "click", x: 1, y: 2, button: "right", double: true },
  });
  assert.deepEqual(buildAction(["drag", "1", "2", "3", "4"], {}), {
    ok: true,
    action: { type: "drag", from: { x: 1, y: 2 }, to: { x: 3, y: 4 }, button: "left" },
  });
  assert.deepEqual(buildAction(["type", "hello", "world"], {}), {
    ok: true,
    action: { type: "type", text: "hello world" },
  });
  assert.deepEqual(buildAction(["run", "ls", "-l"], { "timeout-ms": "500" }), {
    ok: true,
    action: { type: "run", command: "ls", args: ["-l"], timeoutMs: 500 },
  });
  assert.deepEqual(buildAction(["scroll"], { dy: "-3" }), {
    ok: true,
    action: { type: "scroll", dx: 0, dy: -3 },
  });
});

Deno.test("buildAction() says what is wrong: missing, extra, not a number, foreign flag, schema", () => {
  const message = (words: string[], values: Record<string, unknown> = {}) => {
    const built = buildAction(words, values);
    assert.ok(!built.ok);
    return built.message;
  };
  assert.match(message(["move", "1"]), /Missing Y for move; usage: act DEVICE move X Y/);
  assert.match(message(["move", "1", "2", "3"]), /Too many arguments for move: 3/);
  assert.match(message(["move", "left", "2"]), /X must be a number, not "left"/);
  assert.match(message(["move", "1", "2"], { double: true }), /--double does not apply to move/);
  assert.match(message(["move", "1.5", "2"]), /Invalid move: x: .*int/);
  assert.match(message(["click", "1", "2"], { button: "thumb" }), /Invalid click: button/);
  assert.match(message(["teleport"]), /Unknown action "teleport": use move, click/);
  assert.match(message([]), /An action is required/);
});
