import {
  type Envelope,
  type PresenceChange,
  type PresenceMember,
  type PresenceMeta,
  SystemEventType,
} from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { Broker, PresenceEntry } from './broker/broker.ts';
import type { Connection } from './registry.ts';

/** Who holds a presence entry: a WebSocket connection or an SSE stream. */
export type PresenceHolder = Pick<Connection, 'id' | 'user'> & {
  /** Metadata set before the join (absent when none was). */
  readonly presenceMeta?: ReadonlyMap<string, PresenceMeta> | undefined;
};

export interface Presence {
  join(connection: PresenceHolder, channel: string): Promise<void>;
  leave(connectionId: string, channel: string): Promise<void>;
  update(connection: PresenceHolder, channel: string, meta: PresenceMeta): Promise<void>;
  list(channel: string): Promise<PresenceMember[]>;
}

/**
 * Members per channel, kept by the broker (so presence spans instances with Redis), and `$presence`
 * events published as ephemeral channel events whenever what other members see changes.
 */
export function createPresence(broker: Broker, logger: Logger): Presence {
  function publish(channel: string, change: PresenceChange | null) {
    if (!change) return;
    const envelope: Envelope = { type: SystemEventType.PRESENCE, channel, payload: change, ts: Date.now() };
    broker
      .publish(channel, { type: envelope.type, json: JSON.stringify(envelope), ephemeral: true })
      .catch((error) => logger.warn({ err: error, channel }, 'presence event not published'));
  }
  broker.presence.onExpired(publish);

  return {
    async join(connection, channel) {
      const { userId, name } = connection.user;
      const entry: PresenceEntry = { connectionId: connection.id, userId, name };
      const meta = connection.presenceMeta?.get(channel);
      if (meta) entry.meta = meta;
      publish(channel, await broker.presence.join(channel, entry));
    },
    async leave(connectionId, channel) {
      publish(channel, await broker.presence.leave(channel, connectionId));
    },
    async update(connection, channel, meta) {
      publish(channel, await broker.presence.update(channel, connection.id, meta));
    },
    list: (channel) => broker.presence.list(channel),
  };
}
