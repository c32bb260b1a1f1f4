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

/** Starts Xvnc on a free display number at 1280×800. */
export async function startXServer(): Promise<XServer> {
  let number = 40 + Math.floor(Math.random() * 200);
  while (await exists(`/tmp/.X11-unix/X${number}`) || await exists(`/tmp/.X${number}-lock`)) number++;
  const display = `:${number}`;
  const child = new Deno.Command("Xvnc", {
    args: [
      display,
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
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  while (!(await exists(`/tmp/.X11-unix/X${number}`))) {
    if (Date.now() > deadline) throw new Error(`Xvnc ${display} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
  await run("xsetroot", ["-solid", ROOT_COLOUR.hex]);
  return {
    display,
    run,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Gone.
      }
      await child.status;
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Where the pointer is, as `xdotool getmouselocation` (an independent observer) reports it. */
export async function pointer(x: XServer): Promise<{ x: number; y: number }> {
  const text = await x.run("xdotool", ["getmouselocation", "--shell"]);
  return { x: Number(/X=(\d+)/.exec(text)![1]), y: Number(/Y=(\d+)/.exec(text)![1]) };
}

/** An `xev` window that logs the events it receives; `events()` returns what it printed so far. */
export async function eventWindow(
  x: XServer,
): Promise<{ events(): string; close(): Promise<void>; windowId: string }> {
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
    ],
    env: { DISPLAY: x.display },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  let windowId = "";
  const deadline = Date.now() + 5000;
  while (windowId === "") {
    windowId = (await x.run("xdotool", ["search", "--name", "alien3-xev"]).catch(() =>
      ""
    )).trim().split("\n")[0];
    if (Date.now() > deadline) throw new Error("the xev window did not appear");
    if (windowId === "") await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await x.run("xdotool", ["windowfocus", "--sync", windowId]).catch(() => "");
  return {
    windowId,
    events: () => text,
    async close() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Gone.
      }
      await child.status;
      await reading.catch(() => {});
    },
  };
}
