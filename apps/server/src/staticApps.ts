import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { decodeComponent } from '@switchboard/server';

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

/**
 * The demo's icon: a switchboard jack in the accent colour, small enough to inline. Served at
 * `/favicon.svg` (linked from every page) and at `/favicon.ico`, which browsers ask for on their own;
 * they read the SVG by its content type whatever the name.
 */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fdf"/><circle cx="11" cy="11" r="3.5" fill="#fff"/><circle cx="21" cy="21" r="3.5" fill="#fff"/><path d="M11 11 21 21" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/><circle cx="21" cy="11" r="2" fill="#9db4f5"/><circle cx="11" cy="21" r="2" fill="#9db4f5"/></svg>`;

export function indexPage(): string {
  const items = DEMO_APPS.map(
    (app) => `<li><a href="/${app.name}/">${app.title}</a> <span>${app.description}</span></li>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard demos</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
li{margin:.75rem 0}a{font-weight:600;margin-right:.5rem}span{color:#52606d}</style></head>
<body><h1>Switchboard</h1><p>Typed real-time apps over WebSocket. Open a demo, then a private window to join as a second person:</p>
<ul>${items}</ul></body></html>`;
}

/**
 * The file's stat when it is inside `root` once symbolic links are resolved, else null: a link in the
 * build output must not serve what lies outside it.
 */
async function statInside(root: string, file: string) {
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]).catch(() => [null, null]);
  if (!realRoot || !realFile || (realFile !== realRoot && !realFile.startsWith(realRoot + sep))) return null;
  return stat(realFile).catch(() => null);
}

function notFound(res: ServerResponse): true {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  return true;
}

/**
 * Serves a built app's files for a GET/HEAD of `pathname` (still percent-encoded, as parsed from the
 * request target); unknown page paths under the app fall back to its index.html, while dotfiles, missing
 * files with an extension and links leading outside the build answer 404. Returns false when the path is
 * not under an app, so the caller can answer 404. Throws BAD_REQUEST (answered 400 by the request
 * boundary) for malformed percent-encoding or a NUL byte, which no file name contains.
 */
export async function serveApp(appsDir: string, pathname: string, res: ServerResponse): Promise<boolean> {
  const decoded = decodeComponent(pathname, 'path');
  if (decoded.includes('\0')) throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'malformed path: NUL byte');
  const app = DEMO_APPS.find(
    (candidate) => decoded === `/${candidate.name}` || decoded.startsWith(`/${candidate.name}/`),
  );
  if (!app) return false;
  if (decoded === `/${app.name}`) {
    res.writeHead(301, { location: `/${app.name}/` }).end();
    return true;
  }
  const root = resolve(appsDir, app.name, 'dist');
  const relative = normalize(decoded.slice(app.name.length + 2));
  let file = join(root, relative);
  // Path traversal: the resolved file must stay inside the app's dist folder.
  if (file !== root && !file.startsWith(root + sep)) {
    throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'malformed path: outside the app');
  }
  // Dotfiles (`.env`, `.git/...`) are never part of a build's output.
  if (relative.split(sep).some((segment) => segment.startsWith('.') && segment !== '.')) {
    return notFound(res);
  }
  let info = await statInside(root, file);
  if (!info?.isFile()) {
    // A missing file with an extension (`/chat/app.js`) is a missing file; only page routes fall back.
    if (extname(relative) !== '') return notFound(res);
    file = join(root, 'index.html');
    info = await statInside(root, file);
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
  // pipeline, not pipe: a read error (file replaced by a build, client gone) destroys both streams instead
  // of being emitted on a stream nobody listens to, which would end the process.
  await pipeline(createReadStream(file), res).catch(() => res.destroy());
  return true;
}
