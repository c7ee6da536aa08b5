import type { ChannelDefinition, EventPayloads, PublishOutput } from '@switchboard/protocol';
import type { PublishOptions } from './channels.ts';

/**
 * One channel as the server publishes to it, typed from its definition like the client's
 * `client.channel(def, key)`: `publish('mesage', …)` or a payload that does not match the event's schema is
 * a compile error. Unlike the client, the server may publish every event type of the family, including
 * those marked `clientPublish: false`.
 */
export interface ServerChannel<TDef extends ChannelDefinition> {
  /** The full channel name, e.g. `chat:room-1`. */
  readonly name: `${TDef['family']}:${string}`;
  /**
   * Publishes as the server (no `sender`), validated with the event's zod schema, to every subscriber on
   * every instance. Resolves with the stored event's id (none for ephemeral events).
   * Rejects with a `SwitchboardError`: `INVALID_PAYLOAD` when the schema refuses the payload, or the broker's
   * error when it cannot store it.
   */
  publish<TType extends keyof EventPayloads<TDef> & string>(
    type: TType,
    payload: EventPayloads<TDef>[TType],
    options?: PublishOptions,
  ): Promise<PublishOutput>;
}

/** Methods `createSwitchboardServer` adds for typed server-side publishing. */
export interface ServerChannels {
  /**
   * A channel of a family this server serves (listed in `channels`), e.g.
   * `server.channel(chat, 'room-1').publish('message', { text })`. Throws (a `ZodError`) when `key` does not
   * make a valid channel name; publishing to a family missing from `channels` rejects with `BAD_REQUEST`.
   */
  channel<TDef extends ChannelDefinition>(definition: TDef, key: string): ServerChannel<TDef>;
}

/** Binds `channel()` to the server's untyped publish (`channels.publishAsServer`). */
export function createServerChannels(
  publish: (
    channel: string,
    type: string,
    payload: unknown,
    options?: PublishOptions,
  ) => Promise<PublishOutput>,
): ServerChannels {
  return {
    channel(definition, key) {
      const name = definition.name(key);
      return { name, publish: (type, payload, options) => publish(name, type, payload, options) };
    },
  };
}
