/** Reports the client's state: a one-line status on a terminal, or JSON lines for machines. */

/** Where reports go. */
export interface Reporter {
  /** Updates the status line (connection, task, last action). */
  status(fields: { connection: string; task: string | null; lastAction: string | null }): void;
  /** A notable event. */
  event(message: string, fields?: Record<string, unknown>): void;
  /** A final error before exit. */
  error(message: string): void;
}

const encoder = new TextEncoder();

/** Builds a reporter writing to stderr: `text` redraws one line on a TTY, `json` prints one object per line. */
export function createReporter(mode: "text" | "json", isTty: boolean, write = writeStderr): Reporter {
  if (mode === "json") {
    const line = (level: string, message: string, fields: Record<string, unknown> = {}) =>
      write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + "\n");
    return {
      status: (fields) => line("info", "status", fields),
      event: (message, fields) => line("info", message, fields),
      error: (message) => line("error", message),
    };
  }
  let last = "";
  return {
    status({ connection, task, lastAction }) {
      const text = `[alien3] ${connection} | task: ${task ?? "idle"} | last action: ${lastAction ?? "-"}`;
      if (text === last) return;
      last = text;
      write(isTty ? `\r\x1b[2K${text}` : `${text}\n`);
    },
    event(message) {
      write(isTty ? `\r\x1b[2K${message}\n${last}` : `${message}\n`);
    },
    error(message) {
      write(`${isTty ? "\r\x1b[2K" : ""}error: ${message}\n`);
    },
  };
}

function writeStderr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
