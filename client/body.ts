/**
 * The device's body: what it can do (capabilities) and the executor that does it. With a display the
 * Node helper drives the real mouse, keyboard and screen; without one the device joins headless.
 */
import type { PayloadInputOf } from "../shared/protocol/mod.ts";
import { appLauncher } from "./apps.ts";
import { detectCapabilities } from "./capabilities.ts";
import { HelperExecutor } from "./executor.ts";
import { HeadlessExecutor } from "./headless_executor.ts";
import { HelperProcess } from "./helper_process.ts";
import { LocalActions } from "./local_actions.ts";
import type { ActionExecutor } from "./runtime.ts";
import type { Reporter } from "./status_line.ts";

/** A device body. */
export interface Body {
  capabilities(): Promise<PayloadInputOf<"REGISTER_CAPABILITIES">>;
  executor: ActionExecutor;
  close(): Promise<void>;
}

/** Builds the body for this machine: real when a display is present (DISPLAY on Linux), else headless. */
export async function createBody(
  options: {
    name: string;
    tags: string[];
    filesDir: string;
    maxTasks: number;
    /** Runs programs the server asks for (`--allow-run`). */
    allowRun: boolean;
    /** Offers a WebRTC peer for frames (`--webrtc`). */
    webrtc?: boolean;
    reporter: Reporter;
  },
): Promise<Body> {
  const local = (body: ActionExecutor) =>
    new LocalActions({ body, filesDir: options.filesDir, allowRun: options.allowRun });
  const detect = (screens: Array<{ width: number; height: number }>) =>
    detectCapabilities({ ...options, run: options.allowRun, webrtc: options.webrtc, screens });
  const display = Deno.env.get("DISPLAY");
  const hasDisplay = Deno.build.os === "linux" ? Boolean(display) : true;
  if (hasDisplay) {
    const helper = new HelperProcess({
      env: display ? { DISPLAY: display } : undefined,
      onRestart: (count) => options.reporter.event(`Input helper died; restarted (${count})`),
    });
    try {
      let screens = await helper.request<Array<{ width: number; height: number }>>("screens");
      const launch = appLauncher(
        { os: Deno.build.os, env: (name) => Deno.env.get(name) },
        options.filesDir,
        display ? { DISPLAY: display } : undefined,
      );
      const executor = local(new HelperExecutor(helper, launch));
      return {
        capabilities: async () => {
          screens = await helper.request<Array<{ width: number; height: number }>>("screens").catch(() =>
            screens
          );
          return await detect(screens);
        },
        executor,
        close: () => helper.close(),
      };
    } catch (error) {
      options.reporter.event(`No input helper (${(error as Error).message}); joining headless`);
      await helper.close();
    }
  }
  return {
    capabilities: () => detect([]),
    executor: local(new HeadlessExecutor()),
    close: () => Promise.resolve(),
  };
}
