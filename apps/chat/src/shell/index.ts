/**
 * The frame shared by the three demo apps: sign-in, one client per session, the connection banner and
 * the look (`base.css`, imported by each app's entry). The dashboard and collab apps import it from here
 * through their own `src/shell.ts`; it belongs in a `packages/demo-ui` package.
 */

export type { DemoClient } from './createDemoClient.ts';
export type { DemoShellProps } from './DemoShell.tsx';
export { DemoShell } from './DemoShell.tsx';
export { errorMessage } from './errorMessage.ts';
export type { Session } from './session.ts';
export { useNow } from './useNow.ts';
