/**
 * Handshakes one device over WSS and prints the replies' types, for the TLS test (run with DENO_CERT
 * set to the test's self-signed certificate). Usage: wss_probe.ts URL KEY
 */
import { RawDevice } from "./raw_device.ts";

const [url, key] = Deno.args;
const device = await RawDevice.open(url);
const { ack, ready } = await device.handshake(key, "tls-device");
console.log(
  JSON.stringify({
    ack: ack.type,
    resumed: ack.payload.resumed,
    ready: ready.type,
    deviceId: ready.payload.deviceId,
  }),
);
await device.close();
