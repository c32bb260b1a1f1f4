/**
 * The gateway alone as a server process, for the idle-device memory bench: `DeviceGateway` behind
 * `Deno.serve` + `Deno.upgradeWebSocket` (tests/helpers/gateway_harness.ts), in-memory keys, no store,
 * scheduler or HTTP API. Prints `listening PORT KEY` (a device key).
 * Usage: deno run -A bench/gateway_server.ts
 */
import { startGatewayServer } from "../tests/helpers/gateway_harness.ts";

const h = startGatewayServer({
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutMs: 30_000,
  limits: { maxFrameBytes: 16 << 20, maxJsonBytes: 1 << 20, maxMessagesPerSecond: 1000 },
});
console.log(`listening ${new URL(h.url).port} ${h.deviceKey.secret}`);
await new Promise(() => {});
