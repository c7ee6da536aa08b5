export {
  CloseCode,
  CloseReason,
  ErrorCode,
  UpgradeStatus,
  isRetryableClose,
  isTerminalClose,
  trpcCodeOf,
} from './codes.ts';
export { CHANNEL_NAME_PATTERN, channelNameSchema, parseChannelName } from './channelName.ts';
export { createChannelCatalog, defineChannel } from './defineChannel.ts';
export {
  SystemEventType,
  correlationIdSchema,
  envelopeSchema,
  eventIdSchema,
  eventTypeSchema,
  gapSchema,
  presenceChangeSchema,
  presenceMemberSchema,
  presenceMetaSchema,
  senderSchema,
} from './envelope.ts';
export { SwitchboardError, isSwitchboardError } from './errors.ts';
export { ProtocolLimits } from './limits.ts';
export {
  presenceInputSchema,
  publishInputSchema,
  publishOutputSchema,
  setPresenceInputSchema,
  subscribeInputSchema,
} from './procedures.ts';
export { transformer } from './transformer.ts';

export type { ChannelName } from './channelName.ts';
export type {
  ChannelAccess,
  ChannelCatalog,
  ChannelDefinition,
  ChannelEvent,
  EventPayloads,
  EventSpec,
  PublishableEventType,
} from './defineChannel.ts';
export type { Envelope, Gap, PresenceChange, PresenceMember, PresenceMeta, Sender } from './envelope.ts';
export type { PresenceInput, PublishInput, PublishOutput, SetPresenceInput, SubscribeInput } from './procedures.ts';
