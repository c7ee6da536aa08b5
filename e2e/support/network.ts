import type { BrowserContext, WebSocketRoute } from '@playwright/test';

export interface NetworkSwitch {
  /** Drops every open WebSocket of the context (both ends) and refuses new ones, like a lost network. */
  goOffline(): Promise<void>;
  goOnline(): void;
}

/**
 * Puts the context's WebSockets behind a switch. `context.setOffline` cannot be used: Chromium's offline
 * emulation leaves open WebSockets connected. Install it before the page connects.
 */
export async function controlNetwork(context: BrowserContext): Promise<NetworkSwitch> {
  let offline = false;
  const open = new Set<WebSocketRoute>();
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (offline) {
      ws.close({ code: 1001, reason: 'offline' });
      return;
    }
    const server = ws.connectToServer();
    open.add(ws);
    ws.onClose(() => {
      open.delete(ws);
      server.close();
    });
    server.onClose(() => {
      open.delete(ws);
      ws.close();
    });
  });
  return {
    async goOffline() {
      offline = true;
      await Promise.all([...open].map((ws) => ws.close({ code: 1001, reason: 'offline' })));
    },
    goOnline() {
      offline = false;
    },
  };
}
