import {
  type ChannelCatalog,
  type ChannelDefinition,
  describeNonPlainJson,
  type Envelope,
  ErrorCode,
  isSwitchboardError,
  type PresenceMember,
  type PublishInput,
  type PublishOutput,
  type SetPresenceInput,
  type SubscribeInput,
  SwitchboardError,
} from '@switchboard/protocol';
import type { AuthUser } from './auth.ts';
import type { Broker, OutgoingEvent } from './broker/broker.ts';
import type { ChannelAccess } from './channelAccess.ts';
import { badRequest } from './errors.ts';
import { ChannelStream } from './fanout.ts';
import type { Metrics } from './metrics.ts';
import type { Presence } from './presence.ts';
import { type KeyAuthor, publishFingerprint, scopedIdempotencyKey } from './publishIdempotency.ts';
import type { Registry } from './registry.ts';

/** The caller of a channel operation: the connection's verified user and id. */
export interface Caller {
  user: AuthUser;
  connectionId: string;
}

/** Options of a server-side publish. */
export interface PublishOptions {
  /** Deduplicates a retried publish (see `channel.publish`); server keys have a scope of their own. */
  idempotencyKey?: string;
}

/** What the `channel.*` procedures delegate to once their input is validated. */
export interface ChannelService {
  subscribe(caller: Caller, input: SubscribeInput): Promise<ChannelStream>;
  publish(caller: Caller, input: PublishInput): Promise<PublishOutput>;
  /**
   * Publishes as the server (no sender, server-only event types allowed), e.g. from your own procedures.
   * `idempotencyKey` makes a retry safe as for `channel.publish`; server keys have a scope of their own,
   * apart from every user's.
   */
  publishAsServer(
    channel: string,
    type: string,
    payload: unknown,
    options?: PublishOptions,
  ): Promise<PublishOutput>;
  presence(caller: Caller, channel: string): Promise<PresenceMember[]>;
  setPresence(caller: Caller, input: SetPresenceInput): Promise<void>;
}

export function createChannelService(deps: {
  access: ChannelAccess;
  broker: Broker;
  presence: Presence;
  registry: Registry;
  metrics: Metrics;
  catalog: ChannelCatalog;
}): ChannelService {
  const { access, broker, presence, registry, metrics } = deps;

  /**
   * Hands the envelope to the broker. With an idempotency key, a retry within the broker's window is
   * answered with the first publish's id and stores nothing; the key used for a different request
   * rejects with IDEMPOTENCY_CONFLICT. Ephemeral events ignore keys (they have no id to answer with).
   */
  async function store(
    envelope: Envelope,
    ephemeral: boolean,
    author: KeyAuthor,
    idempotencyKey: string | undefined,
  ): Promise<PublishOutput> {
    const stopTimer = metrics.publishDuration.startTimer();
    try {
      const event: OutgoingEvent = { type: envelope.type, json: JSON.stringify(envelope), ephemeral };
      if (idempotencyKey !== undefined && !ephemeral) {
        event.idempotency = {
          key: scopedIdempotencyKey(author, idempotencyKey),
          fingerprint: publishFingerprint(
            envelope.channel,
            envelope.type,
            envelope.payload,
            envelope.correlationId,
          ),
        };
      }
      const { id } = await broker.publish(envelope.channel, event);
      const output: PublishOutput = {};
      if (id !== undefined) output.id = id;
      if (envelope.correlationId !== undefined) output.correlationId = envelope.correlationId;
      return output;
    } catch (cause) {
      if (isSwitchboardError(cause)) throw cause;
      throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'event not published: broker unavailable', {
        cause,
      });
    } finally {
      stopTimer();
    }
  }

  function parsePayload(definition: ChannelDefinition, type: string, payload: unknown) {
    const parsed = definition.events[type]!.schema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw badRequest(
        ErrorCode.INVALID_PAYLOAD,
        `invalid ${type} payload${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    // Stored and fanned out as JSON: what would not arrive as it was sent is refused now, not garbled later.
    const problem = describeNonPlainJson(payload) ?? describeNonPlainJson(parsed.data);
    if (problem) throw badRequest(ErrorCode.INVALID_PAYLOAD, `${type} payload must be plain JSON${problem}`);
    return parsed.data;
  }

  return {
    async subscribe(caller, input) {
      const definition = await access.assertCanSubscribe(caller.user, input.channel);
      return new ChannelStream(
        input.channel,
        caller.connectionId,
        input.lastEventId ?? undefined,
        input.replay ?? 0,
        definition.presence,
      );
    },

    async publish(caller, input) {
      const definition = await access.assertCanPublish(caller.user, input.channel, input.type);
      const envelope: Envelope = {
        type: input.type,
        channel: input.channel,
        payload: parsePayload(definition, input.type, input.payload),
        ts: Date.now(),
        // Stamped from the verified token: a client cannot forge it.
        sender: { userId: caller.user.userId, name: caller.user.name },
      };
      if (input.correlationId !== undefined) envelope.correlationId = input.correlationId;
      const ephemeral = definition.events[input.type]!.ephemeral === true;
      return store(envelope, ephemeral, { userId: caller.user.userId }, input.idempotencyKey);
    },

    async publishAsServer(channel, type, payload, options = {}) {
      const definition = deps.catalog.get(channel);
      if (!definition?.events[type])
        throw badRequest(ErrorCode.UNKNOWN_EVENT_TYPE, `${channel}: unknown event "${type}"`);
      const envelope: Envelope = {
        type,
        channel,
        payload: parsePayload(definition, type, payload),
        ts: Date.now(),
      };
      return store(envelope, definition.events[type].ephemeral === true, 'server', options.idempotencyKey);
    },

    async presence(caller, channel) {
      assertPresence(await access.assertCanSubscribe(caller.user, channel), channel);
      return presence.list(channel);
    },

    async setPresence(caller, input) {
      assertPresence(await access.assertCanSubscribe(caller.user, input.channel), input.channel);
      const connection = registry.get(caller.connectionId);
      if (!connection?.isSubscribedTo(input.channel)) {
        throw badRequest(
          ErrorCode.BAD_REQUEST,
          `subscribe to ${input.channel} before setting presence there`,
        );
      }
      // Kept on the connection too: if the join is still pending (history being read), it joins with this.
      connection.setPresenceMeta(input.channel, input.meta);
      await presence.update(connection, input.channel, input.meta);
    },
  };
}

function assertPresence(definition: ChannelDefinition, channel: string): void {
  if (!definition.presence) {
    throw badRequest(
      ErrorCode.BAD_REQUEST,
      `${channel}: the ${definition.family} family does not track presence`,
    );
  }
}
