import type { BrowserContext, WebSocketRoute } from '@playwright/test';

export interface NetworkSwitch {
  /** Takes the context offline and drops its open WebSockets (both ends), like a lost network. */
  goOffline(): Promise<void>;
  /** Back online: the browser fires `online`, and new WebSockets connect again. */
  goOnline(): Promise<void>;
  /**
   * Rewrites the next publish of a chat `message` to an event type the channel does not have, so the
   * server itself rejects that one publish (a real error on the real path); other frames pass unchanged.
   */
  rejectNextChatMessage(): void;
  /**
   * Drops every frame from the server that contains `text` until the returned function is called. The
   * rest (pongs, other procedures) passes, so the connection stays open while one stream goes quiet.
   */
  dropServerFrames(text: string): () => void;
}

/**
 * Puts the context's network behind a switch, and lets a test spoil one publish or silence one stream.
 * `context.setOffline` alone is not enough: Chromium's offline emulation fails new connections but leaves
 * open WebSockets connected, so those are routed through here and closed on the switch. Install it before
 * the page connects.
 */
export async function controlNetwork(context: BrowserContext): Promise<NetworkSwitch> {
  const open = new Set<WebSocketRoute>();
  let rejectMessage = false;
  const droppedFromServer = new Set<string>();
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    const server = ws.connectToServer();
    open.add(ws);
    ws.onMessage((frame) => {
      if (rejectMessage && typeof frame === 'string' && frame.includes('"type":"message"')) {
        rejectMessage = false;
        server.send(frame.replace('"type":"message"', '"type":"no-such-event"'));
        return;
      }
      server.send(frame);
    });
    // Setting a handler turns off Playwright's automatic forwarding, so every kept frame is sent on here.
    server.onMessage((frame) => {
      if (typeof frame === 'string' && [...droppedFromServer].some((text) => frame.includes(text))) return;
      ws.send(frame);
    });
    ws.onClose(() => {
      open.delete(ws);
      server.close();
    });
    server.onClose((code, reason) => {
      open.delete(ws);
      // Pass the server's close code on (the client decides whether to retry from it), when it may be sent.
      ws.close(
        code !== undefined && (code === 1000 || code >= 3000 || [1001, 1008, 1011, 1013].includes(code))
          ? { code, reason }
          : undefined,
      );
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
    rejectNextChatMessage() {
      rejectMessage = true;
    },
    dropServerFrames(text) {
      droppedFromServer.add(text);
      return () => droppedFromServer.delete(text);
    },
  };
}
