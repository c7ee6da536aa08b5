/**
 * `@switchboard/demo-ui`: the frame shared by the three demo apps (sign-in, one client per session, the
 * connection banner) and their look. Each app imports `@switchboard/demo-ui/base.css` in its entry and
 * builds its Vite config with `demoAppConfig` from `@switchboard/demo-ui/vite`.
 */

export type { DemoShellProps } from './DemoShell.tsx';
export { DemoShell } from './DemoShell.tsx';
export { errorMessage } from './errorMessage.ts';
export type { Session } from './session.ts';
export { useNow } from './useNow.ts';
export { useSignOut } from './useSignOut.ts';
