/**
 * The device client's WebSocket: npm `ws` over a socket this file opens and checks itself. Why not Deno's
 * built-in WebSocket client: it leaves Nagle's algorithm on, so the second of two messages sent back to
 * back (STREAM_FRAME then RESULT) waits ~40 ms for the server's delayed ACK (bench/transport_bench.ts), and
 * it takes no per-connection CA or certificate pin (only `DENO_CERT`), refusing a CA:TRUE certificate as
 * the server's own. Here TCP_NODELAY is on, `--ca-file` and `--insecure-fingerprint` apply to this
 * connection, and a refused handshake says which TLS problem it was. The browser keeps the standard
 * WebSocket (shared/transport/websocket.ts).
 */
import * as net from "node:net";
import * as tls from "node:tls";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { type CloseInfo, IncomingQueue, TlsError, type Transport } from "../shared/transport/transport.ts";

const utf8 = new TextDecoder();

/** How to trust the server (`wss://` only). */
export interface TrustOptions {
  /** PEM certificates of the authorities to trust instead of the system's (`--ca-file`). */
  ca?: string;
  /** SHA-256 of the one certificate to accept, `AB:CD:…` upper-case (`--insecure-fingerprint`); chain and name go unchecked. */
  fingerprint?: string;
  /** Give up on a connection not open after this long (default 15 s). */
  timeoutMs?: number;
}

/**
 * Opens `url` (ws:// or wss://) and resolves with its transport once the WebSocket is open. Rejects with a
 * `TlsError` when the certificate is refused or TLS is on one side only, else with an `Error` to retry.
 */
export async function connectNodeWebSocket(url: string, trust: TrustOptions = {}): Promise<Transport> {
  const target = new URL(url);
  const secure = target.protocol === "wss:";
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port) || (secure ? 443 : 80);
  const deadline = AbortSignal.timeout(trust.timeoutMs ?? 15_000);
  const socket = secure
    ? await openTls(url, host, port, trust, deadline)
    : await openTcp(url, host, port, deadline);
  return await upgrade(url, socket, secure, deadline);
}

/** Wraps an open `ws` WebSocket. */
export function nodeWebSocketTransport(socket: WebSocket): Transport {
  const incoming = new IncomingQueue();
  const closed = Promise.withResolvers<CloseInfo>();
  let done = false;
  /** Our own close: nothing more is read or sent, but `closed` waits for the close handshake. */
  let closing: CloseInfo | null = null;
  socket.on("message", (data: Uint8Array, isBinary: boolean) => {
    if (isBinary) incoming.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else incoming.push(utf8.decode(data));
  });
  socket.on("close", (code: number, reason: Uint8Array) => {
    if (done) return;
    done = true;
    incoming.end();
    closed.resolve(closing ?? { code, reason: utf8.decode(reason) });
  });
  socket.on("error", () => {}); // a close follows
  return {
    send(bytes) {
      if (done || closing !== null || socket.readyState !== WebSocket.OPEN) return;
      // A plain view, never a Buffer: `ws` masks a Buffer in place, and the reliable channel resends its frames.
      socket.send(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    close(code = 1000, reason = "") {
      if (done || closing !== null) return;
      closing = { code, reason };
      incoming.end();
      try {
        socket.close(code, reason.slice(0, 120));
      } catch {
        socket.terminate();
      }
    },
    closed: closed.promise,
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get isOpen() {
      return !done && closing === null && socket.readyState === WebSocket.OPEN;
    },
    [Symbol.asyncIterator]: () => incoming[Symbol.asyncIterator](),
  };
}

/** Settles with the socket once `ready` fires, or rejects with `failure(error)`; the socket dies on failure. */
function settle<T extends net.Socket>(
  socket: T,
  ready: "connect" | "secureConnect",
  deadline: AbortSignal,
  failure: (error: Error & { code?: string }) => Error,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => fail(new Error("timed out"));
    const fail = (error: Error) => {
      deadline.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(failure(error));
    };
    deadline.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.once(ready, () => {
      deadline.removeEventListener("abort", onAbort);
      socket.off("error", fail);
      resolve(socket);
    });
  });
}

function openTcp(url: string, host: string, port: number, deadline: AbortSignal): Promise<net.Socket> {
  return settle(
    net.connect({ host, port }),
    "connect",
    deadline,
    (error) => new Error(`Cannot connect to ${url}: ${error.message}`),
  );
}

async function openTls(
  url: string,
  host: string,
  port: number,
  trust: TrustOptions,
  deadline: AbortSignal,
): Promise<tls.TLSSocket> {
  // Verification runs (authorized, authorizationError) but refusing is ours, before a byte of HTTP is
  // written: with rejectUnauthorized the socket would die on an unknown CA before a pin could be compared
  // or the certificate read for the message.
  const socket = await settle(
    tls.connect({
      host,
      port,
      servername: net.isIP(host) === 0 ? host : undefined,
      ca: trust.ca,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    }),
    "secureConnect",
    deadline,
    (error) => handshakeFailure(url, `${host}:${port}`, error),
  );
  const peer = socket.getPeerCertificate();
  const presented = String(peer.fingerprint256 ?? "").toUpperCase();
  let refusal: TlsError | null = null;
  if (trust.fingerprint !== undefined) {
    if (presented !== trust.fingerprint) {
      refusal = new TlsError(
        `Cannot connect to ${url}: the server's certificate does not match --insecure-fingerprint: expected ${trust.fingerprint}, the server presented ${presented}; if the server re-issued its certificate (it prints the fingerprint at start), pin the new one`,
        "fingerprint-mismatch",
      );
    }
  } else {
    const code = !socket.authorized
      ? String(socket.authorizationError ?? "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      : tls.checkServerIdentity(host, peer) === undefined
      ? null
      : "ERR_TLS_CERT_ALTNAME_INVALID";
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      refusal = new TlsError(
        `Cannot connect to ${url}: the server's certificate is for ${
          certificateNames(peer)
        }, not ${host}: connect by one of those names, or give the server a certificate for ${host} (--tls-self-signed ${host},…)`,
        "name-mismatch",
      );
    } else if (code !== null) {
      refusal = new TlsError(
        `Cannot connect to ${url}: the server's certificate is not trusted: ${
          untrustedReason(code, peer, trust.ca !== undefined)
        }: pass the CA that issued it with --ca-file FILE (a server started with --tls-self-signed prints its path), or pin the certificate with --insecure-fingerprint SHA256 using the fingerprint the server printed at start (this server presented ${presented})`,
        "untrusted",
      );
    }
  }
  if (refusal !== null) {
    socket.destroy();
    throw refusal;
  }
  return socket;
}

/** The HTTP upgrade over an open (and, for wss, checked) socket; TCP_NODELAY is set by `ws`. */
function upgrade(
  url: string,
  socket: net.Socket,
  secure: boolean,
  deadline: AbortSignal,
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      createConnection: () => socket,
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    const onAbort = () => {
      ws.terminate();
      reject(new Error(`Cannot connect to ${url}: timed out`));
    };
    deadline.addEventListener("abort", onAbort, { once: true });
    const failed = (error: Error & { code?: string; rawPacket?: Uint8Array }) => {
      deadline.removeEventListener("abort", onAbort);
      ws.off("open", opened);
      ws.terminate();
      const first = error.rawPacket;
      // A TLS server answers an HTTP request with a TLS alert record: 0x15 (or 0x16), then version 3.x.
      if (!secure && first !== undefined && (first[0] === 0x15 || first[0] === 0x16) && first[1] === 0x03) {
        reject(
          new TlsError(
            `Cannot connect to ${url}: the server speaks TLS (it answered with a TLS record, not HTTP): connect with wss:// instead of ws://`,
            "server-is-tls",
          ),
        );
      } else reject(new Error(`Cannot connect to ${url}: ${error.message}`));
    };
    const opened = () => {
      deadline.removeEventListener("abort", onAbort);
      ws.off("error", failed);
      resolve(nodeWebSocketTransport(ws));
    };
    ws.once("error", failed);
    ws.once("open", opened);
  });
}

function handshakeFailure(url: string, address: string, error: Error & { code?: string }): Error {
  const text = `${error.code ?? ""} ${error.message}`;
  if (/WRONG_VERSION_NUMBER|wrong version number|InvalidContentType|http request/i.test(text)) {
    return new TlsError(
      `Cannot connect to ${url}: the server at ${address} does not speak TLS (it answered in plain text): connect with ws:// instead of wss://, or start the server with --tls-self-signed or --tls-cert/--tls-key`,
      "server-not-tls",
    );
  }
  if (/alert|handshake|ssl|tls|certificate/i.test(text) && !/ECONNRE|EPIPE|timed out/.test(text)) {
    return new TlsError(`Cannot connect to ${url}: the TLS handshake failed: ${error.message}`, "handshake");
  }
  return new Error(`Cannot connect to ${url}: ${error.message}`);
}

function certificateNames(peer: tls.PeerCertificate): string {
  const names = (peer.subjectaltname ?? "").split(",").map((n) => n.trim().replace(/^(DNS|IP Address):/, ""))
    .filter((n) => n !== "");
  return names.length > 0 ? names.join(", ") : `CN=${peer.subject?.CN ?? "?"}`;
}

function untrustedReason(code: string, peer: tls.PeerCertificate, withCaFile: boolean): string {
  const issuer = peer.issuer?.CN ? `"${peer.issuer.CN}"` : "its issuer";
  switch (code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return withCaFile ? "it is self-signed and is not in --ca-file" : "it is self-signed";
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      return withCaFile
        ? `it was issued by ${issuer}, which is not in --ca-file`
        : `it was issued by ${issuer}, a CA not trusted here`;
    case "CERT_HAS_EXPIRED":
      return `it expired on ${peer.valid_to}`;
    case "CERT_NOT_YET_VALID":
      return `it is valid only from ${peer.valid_from} (check this machine's clock)`;
    default:
      return code;
  }
}
