/**
 * The narrow interface every message transport implements: the Hono/Deno WebSocket, the browser
 * WebSocket and an in-memory pair for tests.
 */
export interface Transport {
  /** Sends one binary frame. Throws nothing once closed; the frame is dropped. */
  send(bytes: Uint8Array): void;
  /** Closes the transport with a WebSocket close code and reason. */
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written to the network, for backpressure decisions. */
  readonly bufferedAmount: number;
}
