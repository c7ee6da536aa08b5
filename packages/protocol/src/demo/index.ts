/**
 * Contracts of the demo apps (chat, dashboard, collab). Pure zod, shared by `apps/server` and the UIs;
 * library users never import this subpath.
 */

export type { DevLoginInput } from './chat.ts';
export {
  chatChannel,
  devLoginInputSchema,
  MAX_CHAT_MESSAGE_LENGTH,
  roomNameSchema,
  userChannel,
} from './chat.ts';
export type { CommittedOp, TextOpWire } from './collab.ts';
export {
  collabChannel,
  collabOpenInputSchema,
  collabOpsInputSchema,
  collabSubmitInputSchema,
  committedOpSchema,
  committedTextOpSchema,
  docIdSchema,
  MAX_OP_COMPONENTS,
  MAX_OP_TEXT_LENGTH,
  opIdSchema,
  textOpSchema,
} from './collab.ts';
export type { DashboardEvent, InstanceStats } from './dashboard.ts';
export { dashboardEventSchema, dashboardStatsChannel, instanceStatsSchema, totalOf } from './dashboard.ts';

import { chatChannel, userChannel } from './chat.ts';
import { collabChannel } from './collab.ts';
import { dashboardStatsChannel } from './dashboard.ts';
/** Every channel family the demo server serves. */
export const demoChannels = [chatChannel, userChannel, collabChannel, dashboardStatsChannel] as const;
