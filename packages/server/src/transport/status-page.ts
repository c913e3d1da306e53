/**
 * The page at `/` when the inspector's build is missing (see inspector-assets.ts): what is running,
 * what is connected, how to try it — and `notice`, which says how to get the inspector.
 */
import type { ServerContext } from './context.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function statusPage(ctx: ServerContext, notice?: string): string {
  const s = ctx.hub.stats();
  const { config } = ctx;
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const curl = `curl -X POST '${base}/v1/realtime/publish?channel=demo&topic=hello' -H 'Content-Type: application/json' -d '{"hi":"there"}'`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald</title>
<meta http-equiv="refresh" content="5">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{background:#f4f4f4;border-radius:4px;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}
td{padding:.2rem 1rem .2rem 0}.warn{color:#a40}</style></head>
<body><h1>Herald</h1>
${notice ? `<p class="warn">${escapeHtml(notice)}</p>` : ''}
<p>Realtime server, ${config.mode === 'dev' ? '<b>dev mode</b>' : 'production mode'}; engine: <b>${escapeHtml(ctx.engine.name)}</b>.</p>
${config.mode === 'dev' && !config.signingKey ? '<p class="warn">Auth is off: anyone who can reach this port can publish and mint tokens.</p>' : ''}
<table><tr><td>Connections</td><td id="connections">${s.connections}</td></tr>
<tr><td>Subscriptions</td><td id="subscriptions">${s.subscriptions}</td></tr>
<tr><td>Channels with subscribers</td><td id="channels">${s.channels}</td></tr></table>
<h2>Try it</h2><pre>${escapeHtml(curl)}</pre>
<p>Endpoints: <code>POST /v1/realtime/token</code>, <code>GET /v1/realtime/connect</code> (WebSocket),
<code>GET /v1/realtime/sse</code>, <code>POST /v1/realtime/publish</code>, <a href="health"><code>health</code></a>, <a href="metrics"><code>metrics</code></a>.</p>
</body></html>`;
}
