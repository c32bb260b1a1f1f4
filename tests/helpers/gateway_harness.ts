/**
 * A real gateway on in-memory transports and a fake clock, with in-memory keys, for tests of the gateway
 * and what sits on it: heartbeats, deadlines and grace windows pass when the test moves the clock, so
 * they run in milliseconds of real time with the sanitizers on.
 */
import { DeviceGateway, type GatewayOptions } from "../../server/gateway/gateway.ts";
import { systemClock, type Timers } from "../../shared/clock.ts";
import { sequentialIds } from "../../shared/ids.ts";
import type { Message } from "../../shared/protocol/mod.ts";
import { type FakeClock, fakeClock } from "../../shared/testing/fake_clock.ts";
import { memoryPair, type MemoryTransport } from "../../shared/transport/memory.ts";
import { webSocketTransport } from "../../shared/transport/websocket.ts";
import { MemoryKeys } from "./fake_keys.ts";
import { RawDevice } from "./raw_device.ts";

/** A running gateway and what it reported. */
export interface Harness {
  gateway: DeviceGateway;
  clock: FakeClock;
  keys: MemoryKeys;
  deviceKey: { id: string; secret: string };
  operatorKey: { id: string; secret: string };
  /** Every message a READY device sent that the gateway routed (seen through a tap). */
  delivered: Array<{ deviceId: string; message: Message }>;
  offline: Array<{ id: string; reason: string }>;
  /** A new in-memory transport whose other end the gateway has accepted. */
  transport(): MemoryTransport;
  /** A raw device on a new in-memory transport. */
  device(): RawDevice;
  close(): Promise<void>;
}

/** Starts a gateway; every route stays free for the components under test. */
export function startGateway(overrides: Partial<GatewayOptions> = {}): Harness {
  const clock = fakeClock();
  const base = newGateway(clock, { newId: sequentialIds("session"), ...overrides });
  const { gateway } = base;
  const open: MemoryTransport[] = [];
  const transport = () => {
    const [device, server] = memoryPair();
    gateway.accept(server);
    open.push(device);
    return device;
  };
  return {
    ...base,
    clock,
    transport,
    device: () => RawDevice.over(transport()),
    async close() {
      await gateway.close();
      for (const device of open) device.close();
      await Promise.all(open.map((device) => device.closed));
      await clock.runDue();
    },
  };
}

/** Polls `condition` (after running `refresh`, if given) until it holds or `timeoutMs` of real time pass. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3000,
  refresh?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    await refresh?.();
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, refresh ? 50 : 10));
  }
}

/** Moves the fake clock in `stepMs` steps (letting promises settle) until `condition` holds. */
export async function tickUntil(
  clock: FakeClock,
  condition: () => boolean,
  what: string,
  { stepMs = 10, maxMs = 60_000 }: { stepMs?: number; maxMs?: number } = {},
): Promise<void> {
  for (let elapsed = 0; !condition(); elapsed += stepMs) {
    if (elapsed > maxMs) throw new Error(`timed out waiting for ${what} (${maxMs} ms of fake time)`);
    await clock.tickAsync(stepMs);
  }
}

/** A gateway on a real loopback WebSocket and the system clock, for benchmarks and socket-level tests. */
export interface SocketHarness extends Omit<Harness, "clock" | "transport" | "device"> {
  /** `ws://127.0.0.1:PORT/v1/device` */
  url: string;
}

/** Starts a gateway behind a real WebSocket server on a free loopback port. */
export function startGatewayServer(overrides: Partial<GatewayOptions> = {}): SocketHarness {
  const base = newGateway(systemClock, overrides);
  const { gateway } = base;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    gateway.accept(webSocketTransport(socket));
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/v1/device`,
    ...base,
    async close() {
      await gateway.close();
      await server.shutdown();
    },
  };
}

/** A gateway with in-memory keys and test defaults, recording what it routes and who went offline. */
function newGateway(clock: Timers, overrides: Partial<GatewayOptions>) {
  const keys = new MemoryKeys();
  const deviceKey = keys.add("device", "dev");
  const operatorKey = keys.add("operator", "op");
  const gateway = new DeviceGateway({
    keys,
    clock,
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
  gateway.router.tap((deviceId, message) => delivered.push({ deviceId, message }));
  gateway.events.on("device-offline", (device, reason) => offline.push({ id: device.id, reason }));
  return { gateway, keys, deviceKey, operatorKey, delivered, offline };
}
