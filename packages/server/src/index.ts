export type { AuthUser, TokenVerifier } from './auth.ts';
export { createTokenVerifier, extractToken } from './auth.ts';
export type {
  Broker,
  BrokerEvent,
  BrokerListener,
  BrokerStatus,
  HistoryQuery,
  HistoryResult,
  OutgoingEvent,
  PresenceEntry,
  PresenceStore,
} from './broker/broker.ts';
export { compareEventIds, formatEventId, newEpoch, parseEventId } from './broker/eventId.ts';
export type { HistoryOptions } from './broker/historyOptions.ts';
export { historyDefaults } from './broker/historyOptions.ts';
export type { MemoryBroker, MemoryBrokerOptions, MemoryBrokerStats } from './broker/memory.ts';
export { createMemoryBroker } from './broker/memory.ts';
export type { Caller, ChannelService, PublishOptions } from './channels.ts';
export type { HttpRequestHandler } from './httpHandler.ts';
export type { TokenBucket } from './limits.ts';
export { createTokenBucket } from './limits.ts';
export { redactUrl } from './logger.ts';
export type { Metrics, ServerStats } from './metrics.ts';
export type { ChannelAuthorizer, JwtOptions, ServerOptions } from './options.ts';
export { serverDefaults } from './options.ts';
export type { Connection, Registry } from './registry.ts';
export { decodeComponent, parseRequestTarget, readCookie } from './requestDecoding.ts';
export type { SwitchboardContext, SwitchboardServices } from './router.ts';
export { initSwitchboard } from './router.ts';
export type { SwitchboardServer } from './server.ts';
export { createSwitchboardServer } from './server.ts';
export type { ServerChannel, ServerChannels } from './serverChannel.ts';
