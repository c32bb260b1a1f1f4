/**
 * nginx from Debian in front of a test server, running the shipped `deploy/nginx/alien3.conf` with its
 * upstream and listen address pointed at the test, and any directive values a test overrides (shorter
 * timeouts, a lower cap). Each overridden directive must be in the shipped file exactly once.
 */
import { freePort } from "./ports.ts";

const shippedConfig = new URL("../../deploy/nginx/alien3.conf", import.meta.url).pathname;

/** A running nginx. */
export interface Nginx {
  port: number;
  /** The nginx process id (one process: `master_process off`). */
  pid: number;
  url: string;
  wsUrl: string;
  /** The error log so far (for failure messages). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

function nginxBinary(): string {
  for (const path of ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // look further
    }
  }
  return "nginx";
}

/**
 * The shipped config, pointed at `upstreamPort` and listening on `listenPort`, with each `directive value;`
 * in `overrides` replaced. Throws if a directive is missing from the shipped file or there more than once.
 */
export async function shippedConfigFor(
  upstreamPort: number,
  listenPort: number,
  overrides: Record<string, string> = {},
  tls?: NginxTls,
): Promise<string> {
  let text = await Deno.readTextFile(shippedConfig);
  const replaceOnce = (pattern: RegExp, replacement: string, what: string) => {
    const found = text.match(new RegExp(pattern.source, "gm"))?.length ?? 0;
    if (found !== 1) throw new Error(`deploy/nginx/alien3.conf has ${found} "${what}" lines, expected 1`);
    text = text.replace(new RegExp(pattern.source, "m"), replacement);
  };
  replaceOnce(
    /^(\s*)server 127\.0\.0\.1:8080;/,
    `$1server 127.0.0.1:${upstreamPort};`,
    "server 127.0.0.1:8080",
  );
  if (tls === undefined) replaceOnce(/^(\s*)listen 80;/, `$1listen 127.0.0.1:${listenPort};`, "listen 80");
  else {
    // The README's TLS recipe: drop `listen 80;` and enable the commented 443 line with the certificate.
    replaceOnce(/^\s*listen 80;\n/, "", "listen 80");
    replaceOnce(
      /^(\s*)# listen 443 ssl; ssl_certificate \S+; ssl_certificate_key \S+;/,
      `$1listen 127.0.0.1:${listenPort} ssl; ssl_certificate ${tls.certFile}; ssl_certificate_key ${tls.keyFile};`,
      "# listen 443 ssl; ssl_certificate …; ssl_certificate_key …;",
    );
  }
  for (const [directive, value] of Object.entries(overrides)) {
    const name = directive.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
    replaceOnce(new RegExp(`^(\\s*)${name} [^;]+;`), `$1${directive} ${value};`, directive);
  }
  return text;
}

/** A certificate (PEM chain) and key for nginx to terminate TLS with. */
export interface NginxTls {
  certFile: string;
  keyFile: string;
}

/** Starts nginx with the shipped config in front of 127.0.0.1:`upstreamPort` (serving TLS when given `tls`). */
export async function startNginx(
  upstreamPort: number,
  overrides: Record<string, string> = {},
  tls?: NginxTls,
): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-nginx-" });
  const port = freePort();
  await Deno.writeTextFile(`${dir}/alien3.conf`, await shippedConfigFor(upstreamPort, port, overrides, tls));
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/alien3.conf;
}
`,
  );
  const child = new Deno.Command(nginxBinary(), {
    args: ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const errorLog = () => Deno.readTextFile(`${dir}/error.log`).catch(() => "");
  const deadline = Date.now() + 10_000;
  while (true) {
    const up = await Deno.connect({ hostname: "127.0.0.1", port }).then((conn) => {
      conn.close();
      return true;
    }, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      throw new Error(`nginx did not start: ${await stderr} ${await errorLog()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    pid: child.pid,
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    wsUrl: `${tls ? "wss" : "ws"}://127.0.0.1:${port}/v1/device`,
    errorLog,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
