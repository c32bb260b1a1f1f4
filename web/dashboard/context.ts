/// <reference lib="dom" />
/** What every view gets: the REST client, the live feed, the fleet, and navigation. */
import type { Api } from "./api.ts";
import type { FeedEvent } from "./events.ts";
import type { Fleet } from "./fleet.ts";

/** Shared by the views of a signed-in page. */
export interface Context {
  api: Api;
  /** Devices, kept current by the app (REST list + `device` events). */
  fleet: Fleet;
  /** Listens to the global live feed; returns the unsubscribe. */
  onEvent(listener: (event: FeedEvent) => void): () => void;
  /** Listens for the feed's return after a drop (refetch what is shown); returns the unsubscribe. */
  onReconnect(listener: () => void): () => void;
  /** Listens for a fresh device list (`error` null), or a failed fetch of it; returns the unsubscribe. */
  onDevices(listener: (error: unknown) => void): () => void;
  /** Asks for the device list again soon (coalesced). */
  refreshDevices(): void;
  /** A device's name for an id (the id itself when unknown). */
  deviceName(id: string | null | undefined): string;
  /** Goes to a route: `#/dags/ID`. */
  navigate(hash: string): void;
}

/** A view: draws into `root`, returns what stops it (listeners, timers, peers). */
export type View = (root: HTMLElement, ctx: Context, param: string | null) => () => void;

/** Calls `fn` at most once per `ms`, trailing (the last call always runs). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastMs = 0;
  const run = () => {
    timer = null;
    lastMs = Date.now();
    fn();
  };
  const call = () => {
    if (timer !== null) return;
    timer = setTimeout(run, Math.max(0, lastMs + ms - Date.now()));
  };
  call.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return call;
}

/**
 * Keeps a view's data current: calls `load` now, then again (at most once per `ms`) after each feed event
 * `wanted` accepts and after the feed returns from a drop. Returns what stops it.
 */
export function reloadOn(
  ctx: Context,
  wanted: (event: FeedEvent) => boolean,
  ms: number,
  load: () => void,
): () => void {
  const refresh = throttle(load, ms);
  const stops = [
    ctx.onEvent((event) => {
      if (wanted(event)) refresh();
    }),
    ctx.onReconnect(refresh),
  ];
  load();
  return () => {
    refresh.cancel();
    stops.forEach((stop) => stop());
  };
}
