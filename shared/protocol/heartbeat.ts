/**
 * Heartbeats as data: the server's side decides when a PING is due and turns the matching PONG into a
 * round-trip time; both sides measure silence. Pure: time comes in as an argument.
 */

/** A PING the server should send now. */
export interface PingDue {
  id: number;
  sentAtMs: number;
}

/** The server's PING schedule and RTT for one session. */
export class Heartbeat {
  #nextId = 1;
  #nextAtMs: number;
  #pending: PingDue | null = null;

  constructor(readonly intervalMs: number, nowMs: number) {
    this.#nextAtMs = nowMs;
  }

  /** A PING to send now (remembered until its PONG), or null when none is due. */
  due(nowMs: number): PingDue | null {
    if (nowMs < this.#nextAtMs) return null;
    this.#nextAtMs = nowMs + this.intervalMs;
    this.#pending = { id: this.#nextId++, sentAtMs: nowMs };
    return this.#pending;
  }

  /** The round-trip time if `id` answers the outstanding PING, else null (late or unknown). */
  pong(id: number, nowMs: number): number | null {
    const pending = this.#pending;
    if (pending === null || pending.id !== id) return null;
    this.#pending = null;
    return nowMs - pending.sentAtMs;
  }

  /** A new socket: the next PING is due at once and an outstanding one is forgotten. */
  restart(nowMs: number): void {
    this.#nextAtMs = nowMs;
    this.#pending = null;
  }
}

/** How long a peer has been silent. */
export class Silence {
  #lastHeardMs: number;

  constructor(nowMs: number) {
    this.#lastHeardMs = nowMs;
  }

  /** Something arrived. */
  heard(nowMs: number): void {
    this.#lastHeardMs = nowMs;
  }

  /** Milliseconds since anything arrived. */
  silentMs(nowMs: number): number {
    return nowMs - this.#lastHeardMs;
  }
}
