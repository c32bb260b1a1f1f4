/**
 * Opens N idle sockets against a server (a separate process, so the server's memory is measured alone):
 * `device` mode makes each a ready device (CONNECT, REGISTER_CAPABILITIES, READY; PINGs answered),
 * `bare` mode opens a plain WebSocket that sends the same two handshake frames and waits for two replies
 * (against `bare_ws_server.ts`, which echoes). Prints `ready N` once all are up, and closes them and exits when
 * stdin closes.
 * Usage: deno run -A bench/swarm.ts ws://127.0.0.1:PORT/v1/device KEY N [device|bare]
 */
import { encodeMessage, PROTOCOL_VERSION } from "../shared/protocol/mod.ts";
import { RawDevice, testCapabilities } from "../tests/helpers/raw_device.ts";

const [url, key, countText, mode = "device"] = Deno.args;
const count = Number(countText);
const closers: Array<() => Promise<void>> = [];
const batch = 50;

/** A plain socket that carries what a device's handshake carries: CONNECT and REGISTER_CAPABILITIES out, two replies back. */
async function openBare(name: string): Promise<() => Promise<void>> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = (event) => reject(new Error(`WebSocket failed: ${(event as ErrorEvent).message}`));
  });
  let replies = 0;
  const answered = new Promise<void>((resolve) => {
    socket.onmessage = () => {
      if (++replies === 2) resolve();
    };
  });
  const connect = { protocolVersion: PROTOCOL_VERSION, token: key, clientVersion: "test/1" };
  socket.send(encodeMessage("CONNECT", connect, Date.now()));
  socket.send(encodeMessage("REGISTER_CAPABILITIES", testCapabilities(name), Date.now()));
  await answered;
  return () => {
    const closed = new Promise<void>((resolve) => socket.onclose = () => resolve());
    socket.close();
    return closed;
  };
}

async function openDevice(name: string): Promise<() => Promise<void>> {
  const device = await RawDevice.open(url);
  // A server registering thousands of devices at once may take seconds to answer one.
  device.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token: key, clientVersion: "test/1" });
  await device.next("ACK", 60_000);
  device.send("REGISTER_CAPABILITIES", testCapabilities(name));
  await device.next("READY", 60_000);
  device.received.length = 0;
  device.rawReceived.length = 0;
  // An idle device keeps nothing of what it receives (PINGs are answered and dropped).
  device.onMessage = () => {
    device.received.length = 0;
    device.rawReceived.length = 0;
  };
  return () => device.close();
}

for (let i = 0; i < count; i += batch) {
  const opened = await Promise.all(
    Array.from(
      { length: Math.min(batch, count - i) },
      (_, j) => mode === "bare" ? openBare(`swarm-${i + j}`) : openDevice(`swarm-${i + j}`),
    ),
  );
  closers.push(...opened);
}
console.log(`ready ${closers.length}`);
for await (const _ of Deno.stdin.readable) {
  // Keep running until the parent closes stdin.
}
for (let i = 0; i < closers.length; i += 500) await Promise.all(closers.slice(i, i + 500).map((c) => c()));
Deno.exit(0);
