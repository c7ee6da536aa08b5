import type { BrowserContext, WebSocketRoute } from '@playwright/test';

export interface NetworkSwitch {
  /** Takes the context offline and drops its open WebSockets (both ends), like a lost network. */
  goOffline(): Promise<void>;
  /** Back online: the browser fires `online`, and new WebSockets connect again. */
  goOnline(): Promise<void>;
}

/**
 * Puts the context's network behind a switch. `context.setOffline` alone is not enough: Chromium's offline
 * emulation fails new connections but leaves open WebSockets connected, so those are routed through here
 * and closed on the switch. Install it before the page connects.
 */
export async function controlNetwork(context: BrowserContext): Promise<NetworkSwitch> {
  const open = new Set<WebSocketRoute>();
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    const server = ws.connectToServer();
    open.add(ws);
    ws.onClose(() => {
      open.delete(ws);
      server.close();
    });
    server.onClose((code, reason) => {
      open.delete(ws);
      ws.close();
    });
  });
  return {
    async goOffline() {
      await context.setOffline(true);
      await Promise.all([...open].map((ws) => ws.close({ code: 1001, reason: 'offline' })));
    },
    async goOnline() {
      await context.setOffline(false);
    },
  };
}
