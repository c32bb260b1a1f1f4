// The helper's operations, each validating its input and failing with a coded error, never crashing.
import { spawnSync } from "node:child_process";
import { CodedError } from "./errors.js";
import { resolveKeys } from "./keys.js";

const BUTTONS = new Set(["left", "right", "middle"]);

function int(value, name) {
  if (!Number.isInteger(value)) {
    throw new CodedError("schema-violation", `Cannot execute action: ${name} must be an integer`);
  }
  return value;
}

export function actions({ robot, sharp, keysyms }) {
  // robotjs opens ":0.0" first and reads DISPLAY only if that fails: name the display, or a machine
  // that also has a display :0 gets the input there (and dies with it).
  if (process.platform === "linux" && process.env.DISPLAY) robot.setXDisplayName(process.env.DISPLAY);
  robot.setMouseDelay(0);
  robot.setKeyboardDelay(0);
  const screen = () => robot.getScreenSize();
  const inBounds = (x, y) => {
    const { width, height } = screen();
    if (int(x, "x") < 0 || int(y, "y") < 0 || x >= width || y >= height) {
      throw new CodedError(
        "out-of-bounds",
        `Cannot execute action: coordinates are outside the screen: ${x},${y} not in ${width}x${height}`,
      );
    }
  };
  const button = (name = "left") => {
    if (!BUTTONS.has(name)) {
      throw new CodedError("schema-violation", `Cannot execute action: unknown button ${name}`);
    }
    return name;
  };

  const ops = {
    ping: () => ({ pong: true }),
    screens: () => [screen()],
    move: ({ x, y }) => {
      inBounds(x, y);
      robot.moveMouse(x, y);
      return { x, y };
    },
    click: ({ x, y, button: b, double }) => {
      inBounds(x, y);
      robot.moveMouse(x, y);
      robot.mouseClick(button(b), Boolean(double));
      return { x, y };
    },
    drag: ({ from, to, button: b }) => {
      inBounds(from?.x, from?.y);
      inBounds(to?.x, to?.y);
      robot.moveMouse(from.x, from.y);
      robot.mouseToggle("down", button(b));
      robot.dragMouse(to.x, to.y);
      robot.mouseToggle("up", button(b));
      return { from, to };
    },
    type: ({ text }) => {
      if (typeof text !== "string" || text.length === 0) {
        throw new CodedError("schema-violation", "Cannot type: text is empty");
      }
      // robotjs types printable ASCII reliably; other text goes through the keysym pool on X11.
      if (/^[\x20-\x7e]*$/.test(text) || process.platform !== "linux") robot.typeString(text);
      else keysyms.type(text);
      return { characters: [...text].length };
    },
    key: ({ keys }) => {
      const { key, modifiers } = resolveKeys(keys);
      robot.keyTap(key, modifiers);
      return { keys };
    },
    scroll: ({ dx = 0, dy = 0 }) => {
      // robotjs on X11: positive y scrolls up (button 4); our contract: positive dy scrolls down.
      robot.scrollMouse(int(dx, "dx"), -int(dy, "dy"));
      return { dx, dy };
    },
    windows: () => ({ windows: listWindows() }),
    capture: async ({ format = "jpeg", scale = 1, quality = 80 }) => {
      if (format !== "jpeg" && format !== "png") {
        throw new CodedError("schema-violation", "Cannot capture: format is jpeg or png");
      }
      const shot = robot.screen.capture();
      const { width, height } = shot;
      const rgba = Buffer.allocUnsafe(width * height * 4);
      const source = shot.image;
      for (let y = 0; y < height; y++) {
        let from = y * shot.byteWidth;
        let to = y * width * 4;
        for (let x = 0; x < width; x++, from += 4, to += 4) {
          rgba[to] = source[from + 2];
          rgba[to + 1] = source[from + 1];
          rgba[to + 2] = source[from];
          rgba[to + 3] = 255;
        }
      }
      let image = sharp(rgba, { raw: { width, height, channels: 4 } }).removeAlpha();
      const outWidth = Math.max(1, Math.round(width * scale));
      const outHeight = Math.max(1, Math.round(height * scale));
      if (outWidth !== width || outHeight !== height) image = image.resize(outWidth, outHeight);
      image = format === "png" ? image.png({ compressionLevel: 6 }) : image.jpeg({ quality });
      const bytes = await image.toBuffer();
      return {
        format,
        width: outWidth,
        height: outHeight,
        originalWidth: width,
        originalHeight: height,
        capturedAtMs: Date.now(),
        image: bytes.toString("base64"),
      };
    },
  };

  return async (op, args) => {
    const handler = ops[op];
    if (handler === undefined) {
      throw new CodedError("schema-violation", `Cannot run: unknown operation ${op}`);
    }
    return await handler(args);
  };
}

/** Visible top-level windows with a title (X11, through xdotool): title and geometry. */
function listWindows() {
  if (process.platform !== "linux") return [];
  const run = (args) => spawnSync("xdotool", args, { encoding: "utf8", env: process.env });
  const found = run(["search", "--onlyvisible", "--name", "."]);
  if (found.error) {
    throw new CodedError("action-failed", `Cannot list windows: xdotool: ${found.error.message}`);
  }
  const windows = [];
  for (const id of found.stdout.split("\n").map((line) => line.trim()).filter(Boolean)) {
    const name = run(["getwindowname", id]);
    const title = name.status === 0 ? name.stdout.replace(/\n$/, "") : "";
    if (title === "") continue;
    const geometry = run(["getwindowgeometry", "--shell", id]);
    const field = (key) => Number(new RegExp(`^${key}=(-?\\d+)`, "m").exec(geometry.stdout)?.[1] ?? NaN);
    const window = { title };
    for (const [key, name] of [["X", "x"], ["Y", "y"], ["WIDTH", "width"], ["HEIGHT", "height"]]) {
      const value = field(key);
      if (Number.isFinite(value)) window[name] = value;
    }
    windows.push(window);
  }
  return windows;
}
