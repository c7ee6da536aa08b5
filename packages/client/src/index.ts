export type { AuthError } from './authError.ts';
export type { Backoff } from './backoff.ts';
export { backoffCeilingMs, createBackoff, fullJitterDelayMs } from './backoff.ts';
export type { CallTimeoutContext } from './callTimeout.ts';
export type {
  CallOptions,
  ChannelHandle,
  ChannelListener,
  PublishOptions,
  PublishResult,
} from './channel.ts';
export type { ChannelProcedures, ChannelStreamItem, ChannelStreamObserver } from './channelProcedures.ts';
export type { ChannelStatus } from './channelSession.ts';
export type { ChannelSnapshot, ChannelView, ChannelViewInit } from './channelView.ts';
export type {
  CloseInfo,
  ConnectionFailure,
  ConnectionListener,
  ConnectionState,
  ConnectionStatus,
  ConnectionStore,
} from './connectionState.ts';
export type { SwitchboardClient } from './createSwitchboardClient.ts';
export { createSwitchboardClient } from './createSwitchboardClient.ts';
export { toSwitchboardError } from './errors.ts';
export type {
  BackoffOptions,
  ChannelViewOptions,
  ClientOptions,
  KeepAliveOptions,
  OnlineEventSource,
  WebSocketConstructor,
} from './options.ts';
export { clientDefaults, MAX_REPLAY } from './options.ts';
