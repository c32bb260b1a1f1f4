/**
 * The device's body: what it can do (capabilities) and the executor that does it. With a display the
 * Node helper drives the real mouse, keyboard and screen; without one the device joins headless.
 */
import type { PayloadInputOf } from "../shared/protocol/mod.ts";
import { HeadlessExecutor } from "./headless_executor.ts";
import type { ActionExecutor } from "./runtime.ts";
import type { Reporter } from "./status_line.ts";

/** A device body. */
export interface Body {
  capabilities(): Promise<PayloadInputOf<"REGISTER_CAPABILITIES">>;
  executor: ActionExecutor;
  close(): Promise<void>;
}

/** Builds the body for this machine. */
export function createBody(options: { name: string; tags: string[]; reporter: Reporter }): Promise<Body> {
  const executor = new HeadlessExecutor();
  return Promise.resolve({
    capabilities: () =>
      Promise.resolve({
        name: options.name,
        os: { platform: Deno.build.os, version: Deno.osRelease(), hostname: Deno.hostname() },
        apps: [],
        screens: [],
        input: { mouse: false, keyboard: false },
        media: { capture: false, webrtc: false },
        tags: options.tags,
      }),
    executor,
    close: () => Promise.resolve(),
  });
}
