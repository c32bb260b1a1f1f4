/** WebSocket close codes of the control path, as PROTOCOL.md specifies them; both sides use this table. */
export const CloseCodes = {
  normal: 1000,
  serverShutdown: 1001,
  unauthorized: 4001,
  versionUnsupported: 4002,
  outOfOrder: 4003,
  heartbeatTimeout: 4004,
  tooManyErrors: 4005,
  keyRevoked: 4006,
  sessionReplaced: 4007,
  handshakeTimeout: 4008,
  frameTooLarge: 4009,
  deviceAlreadyConnected: 4010,
} as const;

/** A close code of the control path. */
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];
