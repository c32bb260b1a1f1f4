/// <reference lib="dom" />
/**
 * The operator dashboard in real headless Chromium: a page at a given viewport with its errors collected,
 * signing in through the form, screenshots saved as test artifacts (`$ALIEN3_TEST_ARTIFACTS`, default
 * `tests/artifacts/`, git-ignored), and the horizontal-overflow check of the responsive layout.
 */
import type { Page } from "puppeteer-core";
import type { Chromium } from "./chromium.ts";

/** Where screenshots go. */
export function artifactsDir(): string {
  return Deno.env.get("ALIEN3_TEST_ARTIFACTS") ?? new URL("../artifacts", import.meta.url).pathname;
}

/** A dashboard page, what went wrong in it (uncaught errors, console errors) and every URL it requested. */
export interface DashboardPage {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Opens `url` (the server's `/`) at the viewport, collecting page errors. */
export async function openDashboard(
  chromium: Chromium,
  url: string,
  viewport: { width: number; height: number } = { width: 1280, height: 800 },
): Promise<DashboardPage> {
  const page = await chromium.browser.newPage();
  await page.setViewport(viewport);
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("request", (request) => void requests.push(request.url()));
  page.on("pageerror", (error) => errors.push(`pageerror: ${(error as Error).message}`));
  page.on("console", (message) => {
    // A refused request is logged by Chromium itself; the page shows those as coded errors.
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
      errors.push(`console: ${message.text()}`);
    }
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, errors, requests };
}

/** Types the token into the form and submits it. */
export async function submitToken(page: Page, token: string): Promise<void> {
  await page.waitForSelector("#token");
  await page.click("#token", { count: 3 });
  await page.type("#token", token);
  await page.click("#signin");
}

/** Signs in and waits for the devices page with a live feed. */
export async function signIn(page: Page, token: string): Promise<void> {
  await submitToken(page, token);
  await waitFor(
    page,
    () => document.body.dataset.view === "devices" && document.body.dataset.server === "online",
  );
}

/** Waits until `predicate` holds in the page (polled), or throws after `timeoutMs`. */
export async function waitFor(
  page: Page,
  // deno-lint-ignore no-explicit-any
  predicate: (...args: any[]) => unknown,
  timeoutMs = 20_000,
  ...args: string[]
): Promise<void> {
  await page.waitForFunction(predicate, { timeout: timeoutMs, polling: 50 }, ...args);
}

/** Saves a PNG screenshot of the page as a test artifact; returns its path. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  await Deno.mkdir(artifactsDir(), { recursive: true });
  const path = `${artifactsDir()}/${name}.png`;
  await page.screenshot({ path: path as `${string}.png`, fullPage });
  return path;
}

/** How far the page is wider than its viewport (0: nothing overflows horizontally). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
}
