export { createSwitchboardServer } from './server.ts';
export { initSwitchboard } from './router.ts';
export { createMemoryBroker } from './broker/memory.ts';
export { compareEventIds, formatEventId, newEpoch, parseEventId } from './broker/eventId.ts';
export { createTokenVerifier, extractToken } from './auth.ts';
export { createTokenBucket } from './limits.ts';
export { redactUrl } from './logger.ts';
export { serverDefaults } from './options.ts';

export type { SwitchboardServer } from './server.ts';
export type { SwitchboardContext, SwitchboardServices } from './router.ts';
export type { AuthUser, TokenVerifier } from './auth.ts';
export type { TokenBucket } from './limits.ts';
export type { ServerOptions, JwtOptions, ChannelAuthorizer } from './options.ts';
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
export type { MemoryBrokerOptions } from './broker/memory.ts';
export type { ChannelService, Caller } from './channels.ts';
export type { Connection, Registry } from './registry.ts';
export type { Metrics, ServerStats } from './metrics.ts';
