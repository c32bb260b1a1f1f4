# ALIEN3 Network server. Build: docker build -t alien3 .  Run: docker run -p 8080:8080 -v alien3-data:/data alien3
FROM denoland/deno:2.9.6

WORKDIR /app
# Screen text (OCR): Debian's Tesseract 5 with English data, run by the server as a child process. As root,
# before USER deno; the server only runs /usr/bin/tesseract (--allow-run=tesseract below).
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
  && rm -rf /var/lib/apt/lists/*
# Dependencies first, so code changes don't refetch them. sharp (frames for OCR) brings its prebuilt
# libvips from npm; its build script is not run and not needed. The server loads it with --allow-ffi,
# limited to node_modules.
COPY deno.json deno.lock* ./
COPY shared/ shared/
COPY server/ server/
COPY client/ client/
COPY web/ web/
RUN deno install --entrypoint server/main.ts server/keys_cli.ts
# The browser device client's script (/device.js), built once here; the server uses it while its sources match.
RUN deno task build-web

RUN mkdir -p /data && chown deno:deno /data
USER deno
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/healthz'); Deno.exit(r.ok ? 0 : 1)"]
ENTRYPOINT ["deno", "run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run=tesseract,deno", "--allow-ffi=node_modules", "server/main.ts", "--data-dir", "/data", "--host", "0.0.0.0", "--port", "8080"]
