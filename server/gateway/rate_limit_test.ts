import assert from "node:assert/strict";
import type { MessageOf } from "../../shared/protocol/mod.ts";
import { startGateway, tickUntil, until } from "../../tests/helpers/gateway_harness.ts";

Deno.test(
  "a raw device sending reliable messages faster than the limit is refused with retryAfterMs; resending from the refused seq delivers each exactly once, in order",
  async () => {
    const h = startGateway({
      limits: { maxFrameBytes: 65536, maxJsonBytes: 16384, maxMessagesPerSecond: 20 },
    });
    const device = h.device();
    try {
      device.autoAck = false;
      const { ready } = await device.handshake(h.deviceKey.secret, "flooder");
      const deviceId = ready.payload.deviceId;
      // 40 tokens to start (2 spent on the handshake): 38 go through; the 17 after them are refused or
      // discarded, within the 20 the server forgives.
      const TOTAL = 55;
      const result = (seq: number) => device.send("RESULT", { seq, actionId: `a${seq}`, ok: true });
      for (let seq = 1; seq <= TOTAL; seq++) result(seq);
      const refusals: Array<MessageOf<"ERROR">["payload"]> = [];
      while (h.delivered.length < TOTAL) {
        const error = (await device.next("ERROR", 5000)).payload;
        assert.equal(error.code, "rate-limited", error.message);
        assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0, "the ERROR says when to retry");
        await h.clock.tickAsync(error.retryAfterMs!);
        // A dropped PONG names its type; a refused reliable message names its seq: resend from it.
        if (!/^\d+$/.test(error.ref ?? "")) continue;
        refusals.push(error);
        for (let seq = Number(error.ref); seq <= TOTAL; seq++) result(seq);
        await until(
          () => h.delivered.length === TOTAL || device.received.some((m) => m.type === "ERROR"),
          "the resent messages delivered, or the next refusal",
          5000,
        );
      }
      assert.deepEqual(refusals.map((r) => r.ref), ["39"], "refused at the first message over the burst");
      assert.deepEqual(
        h.delivered.map((d) => [d.deviceId, (d.message.payload as { seq: number }).seq]),
        Array.from({ length: TOTAL }, (_, i) => [deviceId, i + 1]),
        "every message delivered once, in order",
      );
      await tickUntil(
        h.clock,
        () => device.received.some((m) => m.type === "SEQ_ACK" && m.payload.seq === TOTAL),
        "the SEQ_ACK covering the last message",
      );
      assert.equal(device.closeCode, null, "refusals the device acted on never closed it");
      assert.equal(h.gateway.device(deviceId)?.state, "ready");
    } finally {
      await h.close();
    }
  },
);
