export type { ChannelName } from './channelName.ts';
export { CHANNEL_NAME_PATTERN, channelNameSchema, parseChannelName } from './channelName.ts';
export {
  CloseCode,
  CloseReason,
  ErrorCode,
  errorCodeOfTrpc,
  isRefusalClose,
  isRetryableClose,
  isRetryableTrpcCode,
  isRetryableUpgradeStatus,
  isTerminalClose,
  trpcCodeOf,
  UpgradeStatus,
} from './codes.ts';
export type {
  ChannelAccess,
  ChannelCatalog,
  ChannelDefinition,
  ChannelEvent,
  EventPayloads,
  EventSpec,
  PublishableEventType,
} from './defineChannel.ts';
export { createChannelCatalog, defineChannel } from './defineChannel.ts';
export type { Envelope, Gap, PresenceChange, PresenceMember, PresenceMeta, Sender } from './envelope.ts';
export {
  correlationIdSchema,
  envelopeSchema,
  eventIdSchema,
  eventTypeSchema,
  gapSchema,
  idempotencyKeySchema,
  presenceChangeSchema,
  presenceMemberSchema,
  presenceMetaSchema,
  SystemEventType,
  senderSchema,
} from './envelope.ts';
export { isSwitchboardError, SwitchboardError } from './errors.ts';
export { KeyedQueue } from './keyedQueue.ts';
export { ProtocolLimits } from './limits.ts';
export { describeNonPlainJson } from './plainJson.ts';
export type {
  PresenceInput,
  PublishInput,
  PublishOutput,
  RefreshInput,
  SetPresenceInput,
  SubscribeInput,
} from './procedures.ts';
export {
  presenceInputSchema,
  publishInputSchema,
  publishOutputSchema,
  refreshInputSchema,
  setPresenceInputSchema,
  subscribeInputSchema,
} from './procedures.ts';
export { randomId } from './randomId.ts';
export { transformer } from './transformer.ts';
