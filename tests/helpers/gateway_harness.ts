/** A real gateway on a loopback port with in-memory keys, for tests of the gateway and what sits on it. */
import { systemClock } from "../../shared/clock.ts";
import type { Message } from "../../shared/protocol/mod.ts";
import { DeviceGateway, type GatewayOptions } from "../../server/gateway/gateway.ts";
import { MemoryKeys } from "./fake_keys.ts";

/** A running gateway and what it reported. */
export interface Harness {
  url: string;
  gateway: DeviceGateway;
  keys: MemoryKeys;
  deviceKey: { id: string; secret: string };
  operatorKey: { id: string; secret: string };
  delivered: Array<{ deviceId: string; message: Message }>;
  offline: Array<{ id: string; reason: string }>;
  close(): Promise<void>;
}

export function startGateway(overrides: Partial<GatewayOptions> = {}): Harness {
  const keys = new MemoryKeys();
  const deviceKey = keys.add("device", "dev");
  const operatorKey = keys.add("operator", "op");
  const gateway = new DeviceGateway({
    keys,
    clock: systemClock,
    heartbeatIntervalMs: 1000,
    heartbeatTimeoutMs: 5000,
    resumeGraceMs: 5000,
    handshakeTimeoutMs: 5000,
    limits: { maxFrameBytes: 64 * 1024, maxJsonBytes: 16 * 1024, maxMessagesPerSecond: 1000 },
    tickMs: 20,
    ...overrides,
  });
  const delivered: Harness["delivered"] = [];
  const offline: Harness["offline"] = [];
  gateway.subscribe({
    message: (deviceId, message) => delivered.push({ deviceId, message }),
    deviceOffline: (device, reason) => offline.push({ id: device.id, reason }),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    gateway.accept(socket);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/v1/device`,
    gateway,
    keys,
    deviceKey,
    operatorKey,
    delivered,
    offline,
    async close() {
      await gateway.close();
      await server.shutdown();
    },
  };
}

/** Polls `condition` (after running `refresh`, if given) until it holds or `timeoutMs` passes. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 3000,
  refresh?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    await refresh?.();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, refresh ? 50 : 10));
  }
}
