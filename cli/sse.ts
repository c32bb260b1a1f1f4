/** The event-stream parser moved to `shared/sse.ts` (the dashboard reads the same streams in the browser). */
export * from "../shared/sse.ts";
