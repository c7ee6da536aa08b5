import type {
  Envelope,
  PresenceInput,
  PresenceMember,
  PublishInput,
  PublishOutput,
  SetPresenceInput,
  SubscribeInput,
} from '@switchboard/protocol';
import type { TRPCClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import type { CallTimeoutContext } from './callTimeout.ts';

/** One item of `channel.subscribe` as `@trpc/client` delivers it: tracked `{ id, data }`, or `{ data }`. */
export interface ChannelStreamItem {
  /** The resume position (tRPC's tracked id); absent on `$gap`. Never an event's identity: use `data.id`. */
  id?: string;
  data: Envelope;
}

/** The part of tRPC's subscription observer the channel layer uses. */
export interface ChannelStreamObserver {
  onStarted?(): void;
  onData?(item: ChannelStreamItem): void;
  onError?(error: unknown): void;
  onComplete?(): void;
  onConnectionStateChange?(state: { state: 'idle' | 'connecting' | 'pending' }): void;
}

/** tRPC's per-call options as the channel layer uses them (the call's own timeout). */
export interface CallRequestOptions {
  context?: CallTimeoutContext;
}

/**
 * The built-in `channel.*` procedures every Switchboard router mounts, typed from the protocol's schemas.
 * The client is generic over the app's router, so the channel layer reaches these through this view of it.
 */
export interface ChannelProcedures {
  channel: {
    subscribe: { subscribe(input: SubscribeInput, observer: ChannelStreamObserver): { unsubscribe(): void } };
    publish: { mutate(input: PublishInput, options?: CallRequestOptions): Promise<PublishOutput> };
    presence: {
      query(input: PresenceInput, options?: CallRequestOptions): Promise<{ members: PresenceMember[] }>;
    };
    setPresence: { mutate(input: SetPresenceInput, options?: CallRequestOptions): Promise<unknown> };
  };
}

export function channelProceduresOf<TRouter extends AnyTRPCRouter>(
  trpc: TRPCClient<TRouter>,
): ChannelProcedures {
  return trpc as unknown as ChannelProcedures;
}
