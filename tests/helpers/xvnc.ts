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

const DISPLAY_TRIES = 50;

/**
 * Starts Xvnc at 1280×800. The server decides whether a display is free: asked for `:N`, it refuses one
 * that another server listens on, and the next number is tried; with `-displayfd 1` it prints the number
 * once it accepts clients, so nothing polls. Numbers start at a random point in 1–100, so parallel tests
 * rarely ask for the same one. Display :0 is only used when asked for (`display: 0`): it is a desktop's
 * display, and the one robotjs falls back to, so a helper elsewhere on the machine that does not name its
 * display would drive the test's server. `-rfbport -1`: no VNC port, so no TCP port can collide either.
 */
export async function startXServer(options: { display?: number } = {}): Promise<XServer> {
  if (options.display !== undefined) {
    const server = await launch(options.display);
    if (server === null) throw new Error(`Cannot start Xvnc on :${options.display}: the display is taken`);
    return server;
  }
  const first = 1 + Math.floor(Math.random() * 100);
  for (let number = first; number < first + DISPLAY_TRIES; number++) {
    const server = await launch(number);
    if (server !== null) return server;
  }
  throw new Error(`Cannot start Xvnc: displays :${first} to :${first + DISPLAY_TRIES - 1} are all taken`);
}

/** Starts Xvnc on `:number`; null if another X server has that display. */
async function launch(number: number): Promise<XServer | null> {
  const child = new Deno.Command("Xvnc", {
    args: [
      `:${number}`,
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
  // A server that never says it is ready is killed, which ends its stdout and the loop below.
  const timer = setTimeout(() => send(child, "SIGKILL"), 10_000);
  let ready = "";
  while (!ready.includes("\n")) {
    const { value, done } = await stdout.read();
    if (done) break;
    ready += value;
  }
  clearTimeout(timer);
  if (!ready.includes("\n")) {
    await child.status;
    await logging;
    if (/server already running/.test(log)) return null;
    throw new Error(
      `Cannot start Xvnc on :${number}: it exited or hung for 10 s before it was ready: ${log.trim()}`,
    );
  }
  const reading = (async () => {
    while (!(await stdout.read()).done) { /* Drain: Xvnc says nothing more here. */ }
  })();
  const display = `:${number}`;
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
