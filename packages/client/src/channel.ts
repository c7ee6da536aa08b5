import {
  type ChannelDefinition,
  type ChannelEvent,
  correlationIdSchema,
  ErrorCode,
  type EventPayloads,
  type Gap,
  idempotencyKeySchema,
  type PresenceChange,
  type PresenceMember,
  type PresenceMeta,
  type PublishableEventType,
  randomId,
  SwitchboardError,
} from '@switchboard/protocol';
import type { ChannelProcedures } from './channelProcedures.ts';
import type { ChannelSession, ChannelStatus } from './channelSession.ts';
import { type ChannelView, type ChannelViewInit, createChannelView } from './channelView.ts';
import { toSwitchboardError } from './errors.ts';
import { assertTimeoutMs, MAX_REPLAY, type ResolvedBackoffOptions } from './options.ts';
import { publishWithRetries } from './publishWithRetries.ts';

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
  /**
   * Makes the publish safe to send again: the server stores one event per key (of this user) and answers a
   * repeat with the original event id. Default: a fresh random key per `publish()` call, reused by its own
   * automatic retries. Pass your own to keep it across calls, e.g. a Retry button that resends a message
   * whose acknowledgement was lost (the chat app passes the message's correlation id). Reusing a key for a
   * different event is refused with `IDEMPOTENCY_CONFLICT`.
   */
  idempotencyKey?: string;
  /**
   * This call's timeout, in ms (`Infinity`: none): it rejects with `TIMEOUT` if not acknowledged by then,
   * retries included. @default the client's `callTimeoutMs`
   */
  timeoutMs?: number;
}

/** Per-call options of `presence()` and `setPresence()`. */
export interface CallOptions {
  /** This call's timeout, in ms (`Infinity`: none). @default the client's `callTimeoutMs` */
  timeoutMs?: number;
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
   * Rejects with a `SwitchboardError`: `INVALID_PAYLOAD` before anything is sent, the server's code, or
   * `TIMEOUT` when not acknowledged within the timeout. Sent with an idempotency key, so it is retried
   * by itself, with backoff and the same key, while the timeout allows, when the answer was lost (the
   * connection closed first) or the server was unavailable (`BROKER_UNAVAILABLE`): a lost
   * acknowledgement never stores the event twice.
   */
  publish<TType extends PublishableEventType<TDef>>(
    type: TType,
    payload: EventPayloads<TDef>[TType],
    options?: PublishOptions,
  ): Promise<PublishResult>;
  /** The channel's members now. */
  presence(options?: CallOptions): Promise<PresenceMember[]>;
  /**
   * Sets this connection's presence metadata (requires a subscription; kept across reconnects). Waits for
   * the subscription to be live; rejects with `TIMEOUT` if it is not within the timeout (the metadata is
   * still set once it is).
   */
  setPresence(meta: PresenceMeta, options?: CallOptions): Promise<void>;
  /** A snapshot store of the channel (events, status, gap, members) for UI bindings such as `useChannel`. */
  view(init?: ChannelViewInit<TDef>): ChannelView<TDef>;
}

export interface ChannelHandleDeps {
  procedures: ChannelProcedures;
  /** The shared session of a channel, created on first use. */
  sessionFor(channel: string): ChannelSession;
  /** The session if one is active, without creating it. */
  existingSession(channel: string): ChannelSession | undefined;
  /** What calls reject with while the client is stopped (closed, or refused for good); else undefined. */
  stoppedError(): SwitchboardError | undefined;
  /** The client's default call timeout, in ms. */
  callTimeoutMs: number;
  /** Delays between automatic retries of a publish. */
  backoff: ResolvedBackoffOptions;
}

export function createChannelHandle<TDef extends ChannelDefinition>(
  definition: TDef,
  key: string,
  deps: ChannelHandleDeps,
): ChannelHandle<TDef> {
  const name = channelNameOf(definition, key);

  function assertOpen() {
    const error = deps.stoppedError();
    if (error) throw error;
  }

  function timeoutOf(options: CallOptions): number {
    const timeoutMs = options.timeoutMs ?? deps.callTimeoutMs;
    assertTimeoutMs(timeoutMs, `${name}: timeoutMs`);
    return timeoutMs;
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
      if (
        options.idempotencyKey !== undefined &&
        !idempotencyKeySchema.safeParse(options.idempotencyKey).success
      ) {
        throw new SwitchboardError(
          ErrorCode.BAD_REQUEST,
          `${name}: invalid idempotencyKey "${options.idempotencyKey}"`,
        );
      }
      const timeoutMs = timeoutOf(options);
      assertOpen();
      // A key the app retries with keeps one correlation id: the server counts it as part of the request.
      const correlationId = options.correlationId ?? options.idempotencyKey ?? randomId();
      // The payload as given, not zod's output: the server validates (and transforms) it itself.
      const input = {
        channel: name,
        type,
        payload,
        correlationId,
        idempotencyKey: options.idempotencyKey ?? randomId(),
      };
      const output = await publishWithRetries(deps, input, timeoutMs);
      return output.id === undefined ? { correlationId } : { id: output.id, correlationId };
    },
    async presence(options = {}) {
      const timeoutMs = timeoutOf(options);
      assertOpen();
      try {
        return (await deps.procedures.channel.presence.query({ channel: name }, { context: { timeoutMs } }))
          .members;
      } catch (cause) {
        throw toSwitchboardError(cause);
      }
    },
    async setPresence(meta, options = {}) {
      const timeoutMs = timeoutOf(options);
      assertOpen();
      const session = deps.existingSession(name);
      if (session) return session.setPresence(meta, timeoutMs);
      try {
        // Not subscribed: the server answers with its "subscribe first" error.
        await deps.procedures.channel.setPresence.mutate({ channel: name, meta }, { context: { timeoutMs } });
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
