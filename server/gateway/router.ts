/**
 * One router: every message a READY device sends goes to the one handler that owns its route. A RESULT
 * has two owners by shape: with an `actionId` it answers an action (`RESULT:action`), without one it ends
 * a task (`RESULT:task`). A route has at most one owner; a second claim is a wiring bug and throws.
 */
import type { Message, MessageOf, MessageType } from "../../shared/protocol/mod.ts";

/** A route: a message type, or one of the two kinds of RESULT. */
export type Route = Exclude<MessageType, "RESULT"> | "RESULT:action" | "RESULT:task";

/** The message a route carries. */
export type RoutedMessage<R extends Route> = R extends "RESULT:action" | "RESULT:task" ? MessageOf<"RESULT">
  : R extends MessageType ? MessageOf<R>
  : never;

/** Handles the messages of a route from one device. */
export type RouteHandler<R extends Route> = (deviceId: string, message: RoutedMessage<R>) => void;

/** The route of a message. */
export function routeOf(message: Message): Route {
  if (message.type !== "RESULT") return message.type;
  return message.payload.actionId === undefined ? "RESULT:task" : "RESULT:action";
}

/** Routes device messages to their owners. */
export class Router {
  readonly #owners = new Map<Route, (deviceId: string, message: Message) => void>();
  readonly #taps = new Set<(deviceId: string, message: Message) => void>();

  /** Makes `handler` the owner of `routes`; returns the function that gives them up. */
  own<R extends Route>(routes: readonly R[], handler: RouteHandler<R>): () => void {
    for (const route of routes) {
      if (this.#owners.has(route)) throw new Error(`Cannot own route ${route}: it already has an owner`);
    }
    const owner = handler as unknown as (deviceId: string, message: Message) => void;
    for (const route of routes) this.#owners.set(route, owner);
    return () => {
      for (const route of routes) if (this.#owners.get(route) === owner) this.#owners.delete(route);
    };
  }

  /**
   * Sees every routed message, owned or not, before its owner does; it may not answer or change it
   * (diagnostics, benchmarks and tests). Returns the function that removes the tap.
   */
  tap(listener: (deviceId: string, message: Message) => void): () => void {
    this.#taps.add(listener);
    return () => void this.#taps.delete(listener);
  }

  /** Hands `message` to its owner; false when its route has none. */
  route(deviceId: string, message: Message): boolean {
    for (const tap of this.#taps) tap(deviceId, message);
    const owner = this.#owners.get(routeOf(message));
    if (owner === undefined) return false;
    owner(deviceId, message);
    return true;
  }
}
