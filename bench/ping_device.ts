/**
 * The device side of the gateway bench, the same against both servers: a WebSocket that decodes every
 * frame with the codec and answers each PING with a PONG of the same id (encoded by the codec). With a
 * key it first makes the handshake (CONNECT, REGISTER_CAPABILITIES, READY); without one (the bare
 * server) it only answers. Run as a process it prints `ready` and stops when stdin closes.
 * Usage: deno run -A bench/ping_device.ts URL [KEY]
 */
import { decodeFrame, encodeMessage, type Message, PROTOCOL_VERSION } from "../shared/protocol/mod.ts";
import { testCapabilities } from "../tests/helpers/raw_device.ts";

/** A connected ping-answering device; `close()` ends it. */
export interface PingDevice {
  close(): Promise<void>;
}

/** Opens the device against `url`; with `key`, makes the handshake first. */
export async function openPingDevice(url: string, key?: string): Promise<PingDevice> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`Cannot open ${url}`));
  });
  let waiting: { type: Message["type"]; resolve: () => void } | null = null;
  socket.onmessage = (event) => {
    const decoded = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
    if (!decoded.ok) throw new Error(decoded.error.message);
    const message = decoded.value;
    if (message.type === "PING") {
      socket.send(encodeMessage("PONG", { id: message.payload.id }, Date.now()));
    } else if (waiting !== null && message.type === waiting.type) {
      waiting.resolve();
      waiting = null;
    }
  };
  const next = (type: Message["type"]) => new Promise<void>((resolve) => (waiting = { type, resolve }));
  if (key !== undefined) {
    const acked = next("ACK");
    socket.send(
      encodeMessage(
        "CONNECT",
        { protocolVersion: PROTOCOL_VERSION, token: key, clientVersion: "bench/1" },
        0,
      ),
    );
    await acked;
    const ready = next("READY");
    socket.send(encodeMessage("REGISTER_CAPABILITIES", testCapabilities("ping-bench"), Date.now()));
    await ready;
  }
  return {
    close() {
      const closed = new Promise<void>((resolve) => (socket.onclose = () => resolve()));
      socket.close();
      return closed;
    },
  };
}

if (import.meta.main) {
  const [url, key] = Deno.args;
  const device = await openPingDevice(url, key);
  console.log("ready");
  for await (const _ of Deno.stdin.readable) {
    // Keep answering until the parent closes stdin.
  }
  await device.close();
  Deno.exit(0);
}
