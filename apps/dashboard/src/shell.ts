/**
 * The demo frame shared with the chat and collab apps (sign-in, client, connection banner). It lives in
 * apps/chat/src/shell until it moves to a `packages/demo-ui` package; this file is the one seam to update.
 */

export { DemoShell, useNow } from '../../chat/src/shell/index.ts';
