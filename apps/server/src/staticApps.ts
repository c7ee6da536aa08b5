import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** The demo apps, each served from `<appsDir>/<name>/dist` at `/<name>/`. */
export const DEMO_APPS = [
  { name: 'chat', title: 'Chat', description: 'Rooms, presence, typing indicators, history and resume.' },
  {
    name: 'dashboard',
    title: 'Dashboard',
    description: 'Live connections, message rates, memory and event-loop lag.',
  },
  {
    name: 'collab',
    title: 'Collaborative editor',
    description: 'Operational transformation with remote cursors.',
  },
] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export function indexPage(): string {
  const items = DEMO_APPS.map(
    (app) => `<li><a href="/${app.name}/">${app.title}</a> <span>${app.description}</span></li>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard demos</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
li{margin:.75rem 0}a{font-weight:600;margin-right:.5rem}span{color:#52606d}</style></head>
<body><h1>Switchboard</h1><p>Typed real-time apps over WebSocket. Open a demo in two windows:</p>
<ul>${items}</ul></body></html>`;
}

/**
 * Serves a built app's files; unknown paths under the app fall back to its index.html. Returns false
 * when the URL is not under an app, so the caller can answer 404.
 */
export async function serveApp(appsDir: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  const app = DEMO_APPS.find(
    (candidate) => pathname === `/${candidate.name}` || pathname.startsWith(`/${candidate.name}/`),
  );
  if (!app) return false;
  if (pathname === `/${app.name}`) {
    res.writeHead(301, { location: `/${app.name}/` }).end();
    return true;
  }
  const root = resolve(appsDir, app.name, 'dist');
  const relative = normalize(pathname.slice(app.name.length + 2));
  let file = join(root, relative);
  // Path traversal: the resolved file must stay inside the app's dist folder.
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(400).end();
    return true;
  }
  let info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    file = join(root, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    res
      .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`The ${app.title} app is not built yet: run "pnpm build" (pnpm start does it for you).`);
    return true;
  }
  const isAsset = relative.startsWith(`assets${sep}`);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  createReadStream(file).pipe(res);
  return true;
}
