/** A small structured logger: text or JSON lines on stderr, or silent (tests). */

/** Log fields. */
export type Fields = Record<string, unknown>;

/** The logger every server module takes. */
export interface Logger {
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Builds a logger in the given format. */
export function createLogger(format: "text" | "json" | "silent"): Logger {
  if (format === "silent") return silentLogger;
  const write = (level: string, message: string, fields: Fields = {}) => {
    const line = format === "json"
      ? JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })
      : `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${
        Object.keys(fields).length ? " " + JSON.stringify(fields) : ""
      }`;
    console.error(line);
  };
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}
