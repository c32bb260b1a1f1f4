/**
 * Opens N idle devices against a gateway (a separate process, so the gateway's memory is measured
 * alone). Prints `ready N` once every device is READY, answers PINGs, and exits when stdin closes.
 * Usage: deno run -A bench/swarm.ts ws://127.0.0.1:PORT/v1/device KEY N
 */
import { RawDevice } from "../tests/helpers/raw_device.ts";

const [url, key, countText] = Deno.args;
const count = Number(countText);
const devices: RawDevice[] = [];
const batch = 50;
for (let i = 0; i < count; i += batch) {
  const opened = await Promise.all(
    Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
      const device = await RawDevice.open(url);
      await device.handshake(key, `swarm-${i + j}`);
      device.received.length = 0;
      return device;
    }),
  );
  devices.push(...opened);
}
console.log(`ready ${devices.length}`);
for await (const _ of Deno.stdin.readable) {
  // Keep running until the parent closes stdin.
}
await Promise.all(devices.map((d) => d.close()));
Deno.exit(0);
