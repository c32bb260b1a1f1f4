import assert from "node:assert/strict";
import { type CandidateDevice, chooseDevice, matchesTarget, normalizeOs, whyWaiting } from "./matching.ts";

function device(id: string, extra: Partial<CandidateDevice> = {}): CandidateDevice {
  return {
    id,
    name: `name-${id}`,
    capabilities: {
      os: { platform: "windows", version: "11", hostname: id },
      apps: ["Word", "Chrome"],
      tags: ["office"],
      input: { mouse: true, keyboard: true },
    },
    state: "ready",
    rttMs: 10,
    busyCount: 0,
    freeSlots: 1,
    ...extra,
  };
}

Deno.test("matchesTarget() matches a named device by id or name", () => {
  assert.ok(matchesTarget({ device: "x" }, device("x")));
  assert.ok(matchesTarget({ device: "name-x" }, device("x")));
  assert.ok(!matchesTarget({ device: "X" }, device("x")), "names are exact");
});

Deno.test("matchesTarget() requires every given requirement: os with aliases, apps ignoring case, tags, input", () => {
  const d = device("x");
  assert.ok(matchesTarget({}, d));
  assert.ok(matchesTarget({ os: "Windows", apps: ["word", "CHROME"], tags: ["office"], input: true }, d));
  assert.ok(matchesTarget({ os: "win32" }, d));
  assert.ok(!matchesTarget({ os: "linux" }, d));
  assert.ok(!matchesTarget({ apps: ["Word", "Excel"] }, d));
  assert.ok(!matchesTarget({ tags: ["Office"] }, d), "tags are exact");
  const screenOnly = device("s", {
    capabilities: { ...d.capabilities, input: { mouse: false, keyboard: false } },
  });
  assert.ok(!matchesTarget({ input: true }, screenOnly));
  assert.ok(matchesTarget({ input: false }, screenOnly));
  assert.deepEqual(["macOS", "OSX", "Win64", "Ubuntu", "Linux", "darwin"].map(normalizeOs), [
    "darwin",
    "darwin",
    "windows",
    "linux",
    "linux",
    "darwin",
  ]);
});

Deno.test("chooseDevice() picks the least busy, then the lowest RTT (unknown last), then the smallest id", () => {
  const pick = (devices: CandidateDevice[], gui = false) =>
    chooseDevice({ tags: ["office"] }, gui, devices)?.id;
  assert.equal(
    pick([device("a", { busyCount: 1, rttMs: 1 }), device("b", { rttMs: 9 }), device("c", { rttMs: 3 })]),
    "c",
  );
  assert.equal(pick([device("a", { rttMs: null }), device("b", { rttMs: 90 })]), "b");
  assert.equal(pick([device("b"), device("a")]), "a", "the same choice in any order");
  assert.equal(pick([device("a", { state: "offline" })]), undefined);
  assert.equal(
    pick([device("a", { state: "busy" }), device("b", { busyCount: 3 })], true),
    "b",
    "GUI nodes need a free screen",
  );
  assert.equal(
    pick([device("a", { state: "busy" }), device("b", { busyCount: 3 })], false),
    "a",
    "others share",
  );
  assert.equal(pick([device("a", { capabilities: { ...device("a").capabilities, tags: [] } })]), undefined);
});

Deno.test("whyWaiting() says whether no device matches, all are offline, or all are busy", () => {
  assert.match(
    whyWaiting({ device: "z" }, false, [device("a")]),
    /^no known device matches: waiting for device z$/,
  );
  assert.match(
    whyWaiting({ tags: ["office"] }, false, [device("a", { state: "offline" })]),
    /every matching device is offline/,
  );
  assert.match(
    whyWaiting({ tags: ["office"] }, true, [device("a", { state: "busy" })]),
    /busy with a GUI node/,
  );
});

Deno.test("chooseDevice() skips a device with no free slot; whyWaiting() then names maxTasks", () => {
  const full = device("a", { freeSlots: 0, busyCount: 2 });
  assert.equal(chooseDevice({ tags: ["office"] }, false, [full]), null);
  assert.equal(chooseDevice({ tags: ["office"] }, false, [full, device("b", { busyCount: 5 })])?.id, "b");
  assert.match(
    whyWaiting({ tags: ["office"] }, false, [full]),
    /^every matching device runs as many tasks as it announced \(maxTasks\): waiting for/,
  );
  assert.match(
    whyWaiting({ tags: ["office"] }, true, [full, device("b", { state: "busy" })]),
    /^no matching device is free/,
  );
});
