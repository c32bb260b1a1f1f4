/**
 * What the server adds for the dashboard, over plain HTTP: the page, its script and style sheet served
 * without a token under a CSP that allows only this server; running DAGs' progress in `GET /api/dags`; and
 * a DAG's stored artifacts in `GET /api/dags/:id/artifacts`.
 */
import assert from "node:assert/strict";
import { submitDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";

Deno.test("/ serves the dashboard page, script and style sheet without a token, under a same-origin CSP", async () => {
  const server = await startTestServer();
  try {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    for (
      const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]
    ) {
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    }
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/dashboard.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/dashboard.css">/);
    assert.doesNotMatch(html, /https?:\/\//, "the page loads nothing from elsewhere");

    const script = await fetch(`${server.url}/dashboard.js`);
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    const code = await script.text();
    assert.ok(code.includes("alien3.operatorToken"), "the dashboard's own bundle");
    assert.ok(code.length < 300_000, `minified: ${code.length} bytes`);

    const css = await fetch(`${server.url}/dashboard.css`);
    assert.equal(css.status, 200);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.doesNotMatch(await css.text(), /url\(|@import/, "no external fonts or images");
  } finally {
    await server.close();
  }
});

Deno.test("GET /api/dags counts a running DAG's nodes by state; GET /api/dags/:id/artifacts lists what is stored", async () => {
  const server = await startTestServer();
  try {
    const id = await submitDag(server, {
      name: "nap",
      nodes: [
        { id: "nap", kind: "server", op: { sleepMs: 600_000 } },
        { id: "then", kind: "server", after: ["nap"], op: { sleepMs: 1 } },
      ],
    });
    let listed: { id: string; state: string; nodes: number; progress?: Record<string, number> } | undefined;
    await until(() => listed?.progress?.running === 1, "the nap to run", 10_000, async () => {
      listed = (await (await server.api("/api/dags")).json()).dags.find((d: { id: string }) => d.id === id);
    });
    assert.deepEqual(listed, { ...listed, state: "running", nodes: 2, progress: { running: 1, pending: 1 } });

    const none = await server.api(`/api/dags/${id}/artifacts`);
    assert.equal(none.status, 200);
    assert.deepEqual(await none.json(), { artifacts: [] });
    const unknown = await server.api("/api/dags/no-such-dag/artifacts");
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, "unknown-dag");

    await server.api(`/api/dags/${id}/cancel`, { method: "POST" });
    const ended = (await (await server.api("/api/dags")).json()).dags.find((d: { id: string }) =>
      d.id === id
    );
    assert.equal(ended.state, "cancelled");
    assert.equal(ended.progress, undefined, "an ended DAG's nodes are all final: no progress");
  } finally {
    await server.close();
  }
});
