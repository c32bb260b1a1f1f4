/** WebSocket close codes the gateway uses, as specified in PROTOCOL.md. */
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
} as const;
