/**
 * The demo frame shared with the chat and dashboard apps (sign-in, client, connection banner). It lives in
 * apps/chat/src/shell until it moves to a `packages/demo-ui` package; this file is the one seam to update.
 */

export type { Session } from '../../chat/src/shell/index.ts';
export { DemoShell, errorMessage } from '../../chat/src/shell/index.ts';
