/**
 * A real X server for input tests: Xvnc (tigervnc-standalone-server), because Debian 12's Xvfb ignores
 * injected pointer motion. The root window is painted a known colour so captures can be checked.
 */

/** A running X server. */
export interface XServer {
  display: string;
  /** Runs an X client against this display and returns its stdout. */
  run(command: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** The colour the root window is set to. */
export const ROOT_COLOUR = { hex: "#1f7a3c", rgb: [0x1f, 0x7a, 0x3c] } as const;

/**
 * Starts Xvnc at 1280×800 on a display number the server picks itself (`-displayfd`: it takes the first
 * free one under its own lock and writes it to stdout once it accepts clients), so tests running in
 * parallel never collide. `-rfbport -1`: no VNC port, so no TCP port can collide either.
 */
export async function startXServer(): Promise<XServer> {
  const child = new Deno.Command("Xvnc", {
    args: [
      "-displayfd",
      "1",
      "-rfbport",
      "-1",
      "-geometry",
      "1280x800",
      "-depth",
      "24",
      "-SecurityTypes",
      "None",
      "-localhost",
      "-nolisten",
      "tcp",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logging = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      log = (log + chunk).slice(-2000);
    }
  })();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  // A server that never names its display is killed, which ends its stdout and the loop below.
  const timer = setTimeout(() => send(child, "SIGKILL"), 10_000);
  let number = "";
  while (!number.includes("\n")) {
    const { value, done } = await stdout.read();
    if (done) break;
    number += value;
  }
  clearTimeout(timer);
  if (!number.includes("\n")) {
    await child.status;
    await logging;
    throw new Error(`Cannot start Xvnc: it exited without naming a display within 10 s: ${log.trim()}`);
  }
  const reading = (async () => {
    while (!(await stdout.read()).done) { /* Drain: Xvnc says nothing more here. */ }
  })();
  const display = `:${number.trim()}`;
  const run = async (command: string, args: string[]) => {
    const output = await new Deno.Command(command, {
      args,
      env: { DISPLAY: display },
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (output.code !== 0) throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
    return new TextDecoder().decode(output.stdout);
  };
  const server = {
    display,
    run,
    async stop() {
      send(child, "SIGTERM");
      await child.status;
      await Promise.all([logging, reading]).catch(() => {});
    },
  };
  await run("xsetroot", ["-solid", ROOT_COLOUR.hex]).catch(async (error) => {
    await server.stop();
    throw error;
  });
  return server;
}

function send(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Gone.
  }
}

/** Where the pointer is, as `xdotool getmouselocation` (an independent observer) reports it. */
export async function pointer(x: XServer): Promise<{ x: number; y: number }> {
  const text = await x.run("xdotool", ["getmouselocation", "--shell"]);
  return { x: Number(/X=(\d+)/.exec(text)![1]), y: Number(/Y=(\d+)/.exec(text)![1]) };
}

/** A key press as `xev` reports it: the modifier state and the keysym it looked up. */
export interface KeyPress {
  state: number;
  keysym: string;
}

/** An `xev` window holding the keyboard focus, logging the events it receives. */
export interface EventWindow {
  windowId: string;
  /** What xev printed so far. */
  events(): string;
  /** Key presses logged after `from` (an `events().length`), modifier keys left out. */
  keyPresses(from?: number): KeyPress[];
  /** Stops and resumes xev, like an application too busy to read its events. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

const MODIFIER_KEYSYM = /^(Shift|Control|Alt|Meta|Super|Hyper)_[LR]$|^ISO_Level3_Shift$/;

/**
 * Opens an `xev` window and gives it the keyboard focus; resolves once xev itself reports FocusIn, and
 * fails naming the step that did not happen.
 */
export async function eventWindow(x: XServer): Promise<EventWindow> {
  const child = new Deno.Command("xev", {
    args: [
      "-geometry",
      "400x300+100+100",
      "-name",
      "alien3-xev",
      "-event",
      "keyboard",
      "-event",
      "button",
      "-event",
      "mouse",
      "-event",
      "focus",
    ],
    env: { DISPLAY: x.display },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  const close = async () => {
    send(child, "SIGCONT");
    send(child, "SIGTERM");
    await child.status;
    await reading.catch(() => {});
  };
  try {
    const deadline = Date.now() + 5000;
    // Only a mapped (viewable) window can take the focus; `xdotool search` fails until there is one.
    const search = () =>
      x.run("xdotool", ["search", "--onlyvisible", "--name", "alien3-xev"]).catch(() => "");
    let windowId = "";
    while ((windowId = (await search()).trim().split("\n")[0]) === "") {
      if (Date.now() > deadline) throw new Error("Cannot open the xev window: it was not mapped within 5 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await x.run("xdotool", ["windowfocus", windowId]).catch((error) => {
      throw new Error(`Cannot focus the xev window ${windowId}: ${error.message}`);
    });
    while (!/FocusIn event/.test(text)) {
      if (Date.now() > deadline) {
        throw new Error(`Cannot focus the xev window ${windowId}: xev saw no FocusIn`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
      windowId,
      events: () => text,
      keyPresses: (from = 0) =>
        [
          ...text.slice(from).matchAll(
            /KeyPress event[\s\S]*?state 0x([0-9a-f]+), keycode \d+ \(keysym 0x[0-9a-f]+, ([^)]+)\)/g,
          ),
        ]
          .map((m) => ({ state: parseInt(m[1], 16), keysym: m[2] }))
          .filter((press) => !MODIFIER_KEYSYM.test(press.keysym)),
      pause: () => send(child, "SIGSTOP"),
      resume: () => send(child, "SIGCONT"),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
