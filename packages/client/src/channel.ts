import {
  type ChannelDefinition,
  type ChannelEvent,
  correlationIdSchema,
  ErrorCode,
  type EventPayloads,
  type Gap,
  type PresenceChange,
  type PresenceMember,
  type PresenceMeta,
  type PublishableEventType,
  randomId,
  SwitchboardError,
} from '@switchboard/protocol';
import type { AuthError } from './authError.ts';
import type { ChannelProcedures } from './channelProcedures.ts';
import type { ChannelSession, ChannelStatus } from './channelSession.ts';
import { type ChannelView, type ChannelViewInit, createChannelView } from './channelView.ts';
import { toSwitchboardError } from './errors.ts';
import { MAX_REPLAY } from './options.ts';

/** Callbacks of one `channel(...).subscribe(...)`, typed from the channel definition. */
export interface ChannelListener<TDef extends ChannelDefinition> {
  /** An event of the channel (not `$presence`/`$gap`): narrow on `event.type` to type `event.payload`. */
  onEvent?(event: ChannelEvent<TDef>): void;
  /** The member list: first the whole list (`change` null), then after every join, leave or update. */
  onPresence?(members: readonly PresenceMember[], change: PresenceChange | null): void;
  /**
   * Events were lost: the server's history no longer reaches back to the last event received (evicted,
   * or the stream was recreated). Delivery continues live; refetch whatever state you derive from events.
   */
  onGap?(gap: Gap): void;
  onStatus?(status: ChannelStatus): void;
  /**
   * A subscription attempt failed. With status `error` it is final (unknown channel, forbidden...).
   * Failures that can pass (server or broker unavailable, rate limited, internal error) are retried with
   * the client's backoff while the status stays `subscribing` or `resuming`, until `live`.
   */
  onError?(error: SwitchboardError): void;
  /**
   * Deliver up to this many stored events from before subscribing, oldest first (0..1000). The first
   * subscriber of a channel gets them from the server; later subscribers sharing the subscription get them
   * from what this client has received. @default 0
   */
  replay?: number;
}

export interface PublishOptions {
  /**
   * Correlation id to send with the event (default: a fresh UUID). Choose it yourself to show the event
   * optimistically before `publish` resolves: the echo carries it, even when it arrives first.
   */
  correlationId?: string;
}

/** What `publish` resolves with. */
export interface PublishResult {
  /** The server-assigned event id; absent for ephemeral events, which are not stored. */
  id?: string;
  /** Travels with the event: the echo of your own publish carries it. */
  correlationId: string;
}

/** One channel of one client, typed from its definition. Cheap: create as many as you like. */
export interface ChannelHandle<TDef extends ChannelDefinition> {
  /** The full channel name, e.g. `chat:room-1`. */
  readonly name: string;
  readonly definition: TDef;
  /**
   * Listens to the channel; returns the unsubscribe function. Every subscriber of a channel on one client
   * shares one server subscription, which resumes after a reconnect without losing or repeating events.
   */
  subscribe(listener: ChannelListener<TDef>): () => void;
  /**
   * Validates the payload against the definition, publishes it, and resolves with the event's id.
   * Rejects with a `SwitchboardError` (`INVALID_PAYLOAD` before anything is sent, or the server's code).
   */
  publish<TType extends PublishableEventType<TDef>>(
    type: TType,
    payload: EventPayloads<TDef>[TType],
    options?: PublishOptions,
  ): Promise<PublishResult>;
  /** The channel's members now. */
  presence(): Promise<PresenceMember[]>;
  /** Sets this connection's presence metadata (requires a subscription; kept across reconnects). */
  setPresence(meta: PresenceMeta): Promise<void>;
  /** A snapshot store of the channel (events, status, gap, members) for UI bindings such as `useChannel`. */
  view(init?: ChannelViewInit<TDef>): ChannelView<TDef>;
}

export interface ChannelHandleDeps {
  procedures: ChannelProcedures;
  /** The shared session of a channel, created on first use. */
  sessionFor(channel: string): ChannelSession;
  /** The session if one is active, without creating it. */
  existingSession(channel: string): ChannelSession | undefined;
  /** Why the client is closed, if it is: `true` for `close()`, the auth error for a refusal. */
  closedBecause(): AuthError | true | undefined;
}

export function createChannelHandle<TDef extends ChannelDefinition>(
  definition: TDef,
  key: string,
  deps: ChannelHandleDeps,
): ChannelHandle<TDef> {
  const name = channelNameOf(definition, key);

  function assertOpen() {
    const reason = deps.closedBecause();
    if (reason === undefined) return;
    if (reason === 'unauthorized')
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'the client is unauthorized');
    if (reason === 'forbidden') throw new SwitchboardError(ErrorCode.FORBIDDEN, 'the client is forbidden');
    throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'the Switchboard client is closed');
  }

  const handle: ChannelHandle<TDef> = {
    name,
    definition,
    subscribe(listener) {
      const replay = listener.replay ?? 0;
      if (!Number.isInteger(replay) || replay < 0 || replay > MAX_REPLAY) {
        throw new TypeError(`${name}: replay must be an integer in [0, ${MAX_REPLAY}], got ${replay}`);
      }
      return deps.sessionFor(name).add({
        replay,
        onEvent: listener.onEvent as ((envelope: unknown) => void) | undefined,
        onPresence: listener.onPresence,
        onGap: listener.onGap,
        onStatus: listener.onStatus,
        onError: listener.onError,
      });
    },
    async publish(type, payload, options = {}) {
      const spec = definition.events[type];
      if (!spec) throw new SwitchboardError(ErrorCode.UNKNOWN_EVENT_TYPE, `${name}: unknown event "${type}"`);
      if (spec.clientPublish === false) {
        throw new SwitchboardError(
          ErrorCode.FORBIDDEN,
          `${name}: "${type}" events are published by the server only`,
        );
      }
      const parsed = spec.schema.safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
        throw new SwitchboardError(
          ErrorCode.INVALID_PAYLOAD,
          `invalid ${type} payload${where}: ${issue?.message ?? 'invalid'}`,
        );
      }
      if (
        options.correlationId !== undefined &&
        !correlationIdSchema.safeParse(options.correlationId).success
      ) {
        throw new SwitchboardError(
          ErrorCode.BAD_REQUEST,
          `${name}: invalid correlationId "${options.correlationId}"`,
        );
      }
      assertOpen();
      const correlationId = options.correlationId ?? randomId();
      try {
        // The payload as given, not zod's output: the server validates (and transforms) it itself.
        const output = await deps.procedures.channel.publish.mutate({
          channel: name,
          type,
          payload,
          correlationId,
        });
        return output.id === undefined ? { correlationId } : { id: output.id, correlationId };
      } catch (cause) {
        throw toSwitchboardError(cause);
      }
    },
    async presence() {
      assertOpen();
      try {
        return (await deps.procedures.channel.presence.query({ channel: name })).members;
      } catch (cause) {
        throw toSwitchboardError(cause);
      }
    },
    async setPresence(meta) {
      assertOpen();
      const session = deps.existingSession(name);
      if (session) return session.setPresence(meta);
      try {
        // Not subscribed: the server answers with its "subscribe first" error.
        await deps.procedures.channel.setPresence.mutate({ channel: name, meta });
      } catch (cause) {
        throw toSwitchboardError(cause);
      }
    },
    view: (init) => createChannelView(handle, init),
  };
  return handle;
}

function channelNameOf(definition: ChannelDefinition, key: string): string {
  try {
    return definition.name(key);
  } catch {
    throw new SwitchboardError(
      ErrorCode.BAD_REQUEST,
      `invalid channel key "${key}" for "${definition.family}": printable ASCII without spaces, wildcards or braces`,
    );
  }
}
