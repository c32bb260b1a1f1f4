/**
 * HTTP limits against the real server in its own process (its memory measured from /proc):
 * 1. Refusing 100 MB request bodies: with Content-Length (no body byte sent), chunked and sent in full;
 *    time to the 413 and the server's resident memory after.
 * 2. Slowloris: connections that trickle their request head one header line at a time, or send nothing.
 *    How many the server still holds open after a while, and its memory per connection; then the same
 *    through nginx with the shipped deploy/nginx/alien3.conf (when nginx is installed).
 * 3. Descriptor exhaustion: a server limited to 256 open files, 300 trickling connections, directly and
 *    through nginx: is the server still alive and serving?
 */
import { type Nginx, startNginx } from "../tests/helpers/nginx.ts";
import { RawHttp } from "../tests/helpers/raw_http.ts";
import { startServerProcess } from "../tests/helpers/server_process.ts";

const MiB = 1024 * 1024;
const TRICKLERS = Number(Deno.env.get("BENCH_TRICKLERS") ?? 1000);
const SILENT = Number(Deno.env.get("BENCH_SILENT") ?? 200);
const HOLD_S = Number(Deno.env.get("BENCH_HOLD_S") ?? 30);
const TRICKLE_EVERY_MS = 2000;

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function bodyRefusals(): Promise<void> {
  console.log("\n## 100 MB bodies against a 16 MiB limit (POST /api/dags)\n");
  console.log("| body | answer | time to answer | server RSS before → after |");
  console.log("| --- | --- | ---: | --- |");
  const server = await startServerProcess();
  try {
    const head =
      `POST /api/dags HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${server.operatorToken}\r\n`;
    for (const kind of ["Content-Length, body never sent", "chunked, 100 MB sent in full"]) {
      const before = await server.rssBytes();
      const raw = await RawHttp.open(server.port);
      const started = performance.now();
      let answeredMs = 0;
      if (kind.startsWith("Content-Length")) {
        await raw.write(`${head}content-length: ${100 * MiB}\r\n\r\n`);
        const response = await raw.readResponse(60_000);
        answeredMs = performance.now() - started;
        raw.close();
        console.log(
          `| ${kind} | ${response.status} | ${answeredMs.toFixed(1)} ms | ${mb(before)} → ${
            mb(await server.rssBytes())
          } |`,
        );
        continue;
      }
      await raw.write(`${head}transfer-encoding: chunked\r\n\r\n`);
      const answer = raw.readResponse(60_000).then((response) => {
        answeredMs = performance.now() - started;
        return response;
      });
      const chunk = new Uint8Array(MiB).fill(0x20);
      try {
        for (let sent = 0; sent < 100 * MiB; sent += MiB) await raw.writeChunk(chunk);
        await raw.writeChunk(new Uint8Array(0));
      } catch {
        // closed by the server after its answer
      }
      const response = await answer;
      raw.close();
      console.log(
        `| ${kind} | ${response.status} | ${answeredMs.toFixed(1)} ms | ${mb(before)} → ${
          mb(await server.rssBytes())
        } |`,
      );
    }
  } finally {
    await server.stop();
  }
}

interface Held {
  conn: Deno.TcpConn;
  closedAtMs: number | null;
}

/** Opens `count` connections; each sends a request line, then (when `trickle`) one header line every 2 s. */
async function holdConnections(port: number, count: number, trickle: boolean): Promise<Held[]> {
  const encoder = new TextEncoder();
  const started = performance.now();
  const held: Held[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const entry: Held = { conn, closedAtMs: null };
    held.push(entry);
    if (trickle) await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n"));
    void (async () => {
      const buffer = new Uint8Array(1024);
      try {
        while ((await conn.read(buffer)) !== null) { /* nothing is expected */ }
      } catch {
        // reset
      }
      entry.closedAtMs = performance.now() - started;
    })();
  }
  if (trickle) {
    const timer = setInterval(() => {
      for (const entry of held) {
        if (entry.closedAtMs === null) {
          entry.conn.write(encoder.encode(`x-t: ${Date.now()}\r\n`)).catch(() => {});
        }
      }
    }, TRICKLE_EVERY_MS);
    held.push({ conn: { close: () => clearInterval(timer) } as unknown as Deno.TcpConn, closedAtMs: 0 });
  }
  return held;
}

function release(held: Held[]): void {
  for (const entry of held) {
    try {
      entry.conn.close();
    } catch {
      // closed already
    }
  }
}

async function healthMs(url: string): Promise<number> {
  const started = performance.now();
  await (await fetch(`${url}/healthz`)).body?.cancel();
  return performance.now() - started;
}

/** What the slowloris and descriptor runs connect through: the server itself, then nginx in front of it. */
const FRONTS = ["none (Deno.serve directly)", "nginx, shipped config"] as const;

/**
 * Where to connect for `front`: the server's port, or nginx's once started in front of it; null (after a
 * table row saying why, with `emptyCells` cells left blank) when nginx would not start.
 */
async function openFront(
  front: (typeof FRONTS)[number],
  server: { port: number; url: string },
  emptyCells: number,
): Promise<{ port: number; url: string; nginx: Nginx | null } | null> {
  if (!front.startsWith("nginx")) return { port: server.port, url: server.url, nginx: null };
  try {
    const nginx = await startNginx(server.port);
    return { port: nginx.port, url: nginx.url, nginx };
  } catch (error) {
    console.log(
      `| ${front} | not measured: ${(error as Error).message.split("\n")[0]} |${" |".repeat(emptyCells)}`,
    );
    return null;
  }
}

async function slowloris(): Promise<void> {
  console.log(
    `\n## Slowloris: ${TRICKLERS} connections trickling a header line every 2 s, ${SILENT} silent\n`,
  );
  console.log(
    "| front | still open after " + HOLD_S +
      " s | server RSS per held connection | nginx RSS | /healthz meanwhile |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const server = await startServerProcess();
  let nginx: Nginx | null = null;
  try {
    for (const front of FRONTS) {
      const opened = await openFront(front, server, 3);
      if (opened === null) continue;
      const { port, url } = opened;
      nginx = opened.nginx;
      await sleep(500);
      const before = await server.rssBytes();
      const nginxBefore = nginx ? await rssOf(nginx.pid) : 0;
      const tricklers = await holdConnections(port, TRICKLERS, true);
      const silent = await holdConnections(port, SILENT, false);
      await sleep(2000);
      const grown = (await server.rssBytes()) - before;
      const nginxGrown = nginx ? (await rssOf(nginx.pid)) - nginxBefore : 0;
      const health = await healthMs(url);
      await sleep(HOLD_S * 1000 - 2000);
      const open = (list: Held[]) => list.filter((entry) => entry.closedAtMs === null).length;
      console.log(
        `| ${front} | ${open(tricklers)}/${TRICKLERS} trickling, ${open(silent)}/${SILENT} silent | ${
          Math.round(grown / (TRICKLERS + SILENT))
        } B | ${nginx ? `+${mb(nginxGrown)}` : "—"} | ${health.toFixed(1)} ms |`,
      );
      release(tricklers);
      release(silent);
      if (nginx) {
        await nginx.stop();
        nginx = null;
      }
    }
  } finally {
    if (nginx) await nginx.stop();
    await server.stop();
  }
}

async function descriptorExhaustion(): Promise<void> {
  const LIMIT = 256;
  const CONNECTIONS = 300;
  console.log(`\n## ${CONNECTIONS} trickling connections against a server limited to ${LIMIT} open files\n`);
  console.log("| front | server process after 3 s | /healthz |");
  console.log("| --- | --- | --- |");
  for (const front of FRONTS) {
    const server = await startServerProcess([], { fileDescriptorLimit: LIMIT });
    let nginx: Nginx | null = null;
    let held: Held[] = [];
    try {
      const opened = await openFront(front, server, 1);
      if (opened === null) continue;
      const { port, url } = opened;
      nginx = opened.nginx;
      held = await holdConnections(port, CONNECTIONS, true).catch((error) => {
        console.log(`(opening connections stopped: ${(error as Error).message})`);
        return [];
      });
      await sleep(3000);
      const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
        async (response) => `${response.status} ${(await response.text()).slice(0, 40)}`,
        (error) => `failed (${(error as Error).name})`,
      );
      console.log(`| ${front} | ${server.exited() ? "exited" : "running"} | ${health} |`);
    } finally {
      release(held);
      if (nginx) await nginx.stop();
      await server.stop();
    }
  }
}

await bodyRefusals();
await slowloris();
await descriptorExhaustion();
