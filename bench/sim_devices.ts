/**
 * N simulated devices for the scheduler benchmark (a separate process, so the server is measured alone).
 * Each answers EXECUTE_TASK at once (TASK_ACCEPTED, then RESULT after FINISH_TASK) and records the time
 * from the last task RESULT it sent to the next EXECUTE_TASK any device received, and counts what crosses
 * the wire both ways: WebSocket messages and the frames in them.
 * Usage: deno run -A bench/sim_devices.ts URL KEY N [batch|no-batch] — prints `ready`. Commands on stdin, one
 * a line: `reset` (forget latencies and counts; prints `reset`), `expect K` (prints `done` once K RESULTs went
 * out since the reset), `report` (prints `{latencies, wire}` as JSON, latencies in ms).
 */
import { RawDevice, testCapabilities } from "../tests/helpers/raw_device.ts";

const [url, key, countText, batchText = "batch"] = Deno.args;
/** Whether a turn's frames leave as one message, as the real client sends them (default). */
const BATCH = batchText !== "no-batch";
const devices: RawDevice[] = [];
/** Messages and frames, device→server (`out`) and server→device (`in`). */
const wire = { messagesOut: 0, framesOut: 0, messagesIn: 0, framesIn: 0 };
let lastResultAt = 0;
const latencies: number[] = [];
let results = 0;
let expected = Number.POSITIVE_INFINITY;

for (let i = 0; i < Number(countText); i++) {
  const device = await RawDevice.open(url, { batch: BATCH });
  await device.connect(key);
  device.send("REGISTER_CAPABILITIES", { ...testCapabilities(`sim-${i}`), tags: ["sim"], maxTasks: 1024 });
  await device.next("READY");
  device.received.length = 0;
  device.rawReceived.length = 0;
  device.onMessage = () => {
    for (const message of device.received.splice(0)) {
      if (message.type === "EXECUTE_TASK") {
        if (lastResultAt > 0) latencies.push(performance.now() - lastResultAt);
        device.sendReliable("TASK_ACCEPTED", { taskId: message.payload.taskId });
      } else if (message.type === "FINISH_TASK") {
        lastResultAt = performance.now();
        device.sendReliable("RESULT", { taskId: message.payload.taskId, ok: true });
        if (++results === expected) console.log("done");
      }
    }
  };
  device.onWire = (direction, frames) => {
    if (direction === "in") {
      wire.messagesIn++;
      wire.framesIn += frames;
    } else {
      wire.messagesOut++;
      wire.framesOut += frames;
    }
  };
  devices.push(device);
}
console.log("ready");
let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
    const line = buffered.slice(0, end).trim();
    buffered = buffered.slice(end + 1);
    if (line === "reset") {
      latencies.length = 0;
      lastResultAt = 0;
      results = 0;
      expected = Number.POSITIVE_INFINITY;
      Object.assign(wire, { messagesOut: 0, framesOut: 0, messagesIn: 0, framesIn: 0 });
      console.log("reset");
    } else if (line.startsWith("expect ")) {
      expected = Number(line.slice(7));
      if (results >= expected) console.log("done");
    } else if (line === "report") {
      console.log(JSON.stringify({ latencies, wire }));
    }
  }
}
await Promise.all(devices.map((d) => d.close()));
Deno.exit(0);
