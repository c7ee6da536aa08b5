/**
 * The frame shared by the three demo apps (sign-in, client, connection banner, look).
 * The dashboard and collab apps import it from here; it belongs in a `packages/demo-ui` package.
 */
export { ConnectionBanner } from './ConnectionBanner.tsx';
export type { DemoClient } from './createDemoClient.ts';
export { createDemoClient } from './createDemoClient.ts';
export type { DemoShellProps } from './DemoShell.tsx';
export { DemoShell } from './DemoShell.tsx';
export type { Session } from './session.ts';
export { clearSession, devLogin, loadSession, saveSession } from './session.ts';
export { useNow } from './useNow.ts';
export { useOnline } from './useOnline.ts';
