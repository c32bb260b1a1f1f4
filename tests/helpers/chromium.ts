/**
 * Headless Chromium (Debian's `/usr/bin/chromium`) through puppeteer-core, set up for WebRTC on loopback:
 * a fake screen for getDisplayMedia (a synthetic 800x600 "monitor"), no mDNS hiding of host candidates,
 * loopback allowed in peer connections, and none of the background networking this machine's closed
 * network refuses. Each browser gets a fresh profile, removed on close.
 */
import puppeteer, { type Browser, type CDPSession, type Page } from "puppeteer-core";

/** Where Chromium is (override with CHROMIUM_PATH). */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** A running headless Chromium. */
export interface Chromium {
  browser: Browser;
  /** Opens `url` in a new page. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** Starts Chromium with the WebRTC and fake-media flags the tests need. */
export async function launchChromium(extraArgs: string[] = []): Promise<Chromium> {
  const profile = await Deno.makeTempDir({ prefix: "alien3-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      ...extraArgs,
    ],
  });
  return {
    browser,
    async open(url) {
      const page = await browser.newPage();
      await page.goto(url, { waitUntil: "load" });
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** Evaluates `expression` as a user gesture (getDisplayMedia needs one; `page.evaluate` is not). */
export async function evaluateAsUser(page: Page, expression: string): Promise<unknown> {
  const session: CDPSession = await page.createCDPSession();
  try {
    const { result, exceptionDetails } = await session.send("Runtime.evaluate", {
      expression,
      userGesture: true,
      awaitPromise: true,
      returnByValue: true,
    });
    if (exceptionDetails) throw new Error(`Cannot evaluate ${expression}: ${exceptionDetails.text}`);
    return result.value;
  } finally {
    await session.detach().catch(() => {});
  }
}

/** Waits until `document.body.dataset[key]` equals `value` (the page's own state markers). */
export async function waitForBodyData(
  page: Page,
  key: string,
  value: string,
  timeoutMs = 20_000,
): Promise<void> {
  await page.waitForFunction(
    (k: string, v: string) => document.body.dataset[k] === v,
    { timeout: timeoutMs, polling: 50 },
    key,
    value,
  );
}
