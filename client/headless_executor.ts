/** The executor of a device with no display: it takes file hand-off work, and refuses every action. */
import type { DeviceAction } from "../shared/actions.ts";
import type { ActionExecutor, ExecutionOutcome } from "./runtime.ts";

/** Refuses every action with `no-input`; it has no windows to list. */
export class HeadlessExecutor implements ActionExecutor {
  execute(action: DeviceAction): Promise<ExecutionOutcome> {
    if (action.type === "windows") return Promise.resolve({ ok: true, output: { windows: [] } });
    return Promise.resolve({
      ok: false,
      error: {
        code: "no-input",
        message: `Cannot execute action: device has no display or input: ${action.type}`,
        retryable: false,
      },
    });
  }

  cancel(): void {}
}
