/// <reference lib="dom" />
/**
 * The live feed: `GET /api/events` read through fetch (EventSource cannot send the token in a header, and a
 * token never goes into a URL), parsed with the project's own SSE parser. It reconnects by itself with a
 * short backoff and `Last-Event-ID`, so nothing is missed across a drop; it reports its status (the page
 * shows "offline, reconnecting") and stops for good only when the token is refused.
 */
import { readSse } from "../../shared/sse.ts";

/** One event: its name (`transition`, `step`, `device`, `approval`) and its data. */
export interface FeedEvent {
  id: number | null;
  event: string;
  data: Record<string, unknown>;
}

/** `online`: the stream is open; `offline`: it dropped and is being retried; `refused`: the token was refused. */
export type FeedStatus = "connecting" | "online" | "offline" | "refused";

/** What a feed needs. */
export interface FeedOptions {
  token: string;
  /** Only this DAG's transitions and steps (`?dag=ID`). */
  dag?: string;
  /** Start with the whole history (true), or with what happens from now on (false). */
  replay: boolean;
  onEvent(event: FeedEvent): void;
  /** Every status change; `detail` says why for `offline` and `refused` (with the server's code). */
  onStatus?(status: FeedStatus, detail?: { code: string | null; message: string }): void;
  /** Called when the stream is open again after a drop (views refetch what they show). */
  onReconnect?(): void;
  /** Longest pause between attempts (default 3 s). */
  maxRetryMs?: number;
}

/** A running feed; `close()` ends it. */
export class EventFeed {
  #abort = new AbortController();
  #lastId: string | null = null;
  #status: FeedStatus = "connecting";
  #wasOnline = false;

  constructor(readonly options: FeedOptions) {
    void this.#run();
  }

  get status(): FeedStatus {
    return this.#status;
  }

  close(): void {
    this.#abort.abort();
  }

  #set(status: FeedStatus, detail?: { code: string | null; message: string }): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.options.onStatus?.(status, detail);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let pauseMs = 250;
    while (!signal.aborted) {
      try {
        const refused = await this.#connect(signal, () => (pauseMs = 250));
        if (refused) return;
        if (!signal.aborted) this.#set("offline", { code: null, message: "The event stream ended" });
      } catch (error) {
        if (signal.aborted) return;
        this.#set("offline", { code: null, message: `Cannot reach the server: ${(error as Error).message}` });
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, this.options.maxRetryMs ?? 3000);
    }
  }

  /** One connection; resolves true when the token was refused (no retry then). */
  async #connect(signal: AbortSignal, connected: () => void): Promise<boolean> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.token}`,
      accept: "text/event-stream",
    };
    // Any id the server never issued means "from the newest event on".
    const lastId = this.#lastId ?? (this.options.replay ? null : "live");
    if (lastId !== null) headers["last-event-id"] = lastId;
    const query = this.options.dag === undefined ? "" : `?dag=${encodeURIComponent(this.options.dag)}`;
    const response = await fetch(`/api/events${query}`, { headers, signal });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => ({})) as { error?: { code?: string; message?: string } };
      this.#set("refused", {
        code: body.error?.code ?? null,
        message: body.error?.message ?? `The server refused the token (${response.status})`,
      });
      return true;
    }
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel();
      throw new Error(`the event stream answered ${response.status}`);
    }
    for await (const item of readSse(response.body as ReadableStream<Uint8Array<ArrayBuffer>>, signal)) {
      if (item.kind === "comment") {
        if (item.text === "connected") {
          connected();
          this.#set("online");
          if (this.#wasOnline) this.options.onReconnect?.();
          this.#wasOnline = true;
        }
        continue;
      }
      if (item.id !== null) this.#lastId = item.id;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(item.data);
      } catch {
        continue;
      }
      this.options.onEvent({ id: item.id === null ? null : Number(item.id), event: item.event, data });
    }
    return false;
  }
}
