import react from '@vitejs/plugin-react';
import { defineConfig, type UserConfig } from 'vite';

/** Where `vite dev` forwards `/ws` and `/auth`: the demo server started with `pnpm start`. */
const DEMO_SERVER_URL = 'http://127.0.0.1:3000';

/**
 * The Vite config of a demo app served at `/<name>/` by the demo server. The dev proxy keeps the page's
 * Host header (no `changeOrigin`), so the server's same-origin check on the WebSocket upgrade passes.
 *
 * Apps run Vite with `--configLoader runner` (see their scripts): the default loader bundles the config but
 * leaves this package's import to Node, which cannot load `.ts`; the module runner transforms it like app code.
 */
export function demoAppConfig(name: string): UserConfig {
  return defineConfig({
    base: `/${name}/`,
    plugins: [react()],
    build: { outDir: 'dist', emptyOutDir: true },
    server: {
      proxy: {
        '/ws': { target: DEMO_SERVER_URL, ws: true },
        '/auth': { target: DEMO_SERVER_URL },
      },
    },
  });
}
