/** The control-path protocol: message table, schemas, codec, error codes and reliable delivery. */
export * from "./errors.ts";
export * from "./header.ts";
export * from "./messages.ts";
export * from "./codec.ts";
export * from "./binary_payloads.ts";
export * from "./reliable.ts";
export * from "./token_bucket.ts";
export * from "./close_codes.ts";
export * from "./send_pacer.ts";
export * from "./channel.ts";
export * from "./heartbeat.ts";
export * from "./batching.ts";
