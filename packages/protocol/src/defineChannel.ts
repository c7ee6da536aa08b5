import type { z } from 'zod';
import { channelNameSchema, parseChannelName } from './channelName.ts';
import type { Envelope } from './envelope.ts';

/** How one event type of a channel family is validated and kept. */
export interface EventSpec<TSchema extends z.ZodType = z.ZodType> {
  /** Validates the payload on publish (server) and types it on both ends. */
  schema: TSchema;
  /** Delivered live and never stored in history (typing indicators, metric ticks, cursors). @default false */
  ephemeral?: boolean;
  /** Whether clients may publish it; `false` makes it server-only. @default true */
  clientPublish?: boolean;
}

/**
 * Who may use a channel of this family.
 * - `public`: any authenticated user (subject to the server's `canSubscribe`/`canPublish` hooks);
 * - `owner`: only the user whose id is the channel key (`user:<id>` private channels).
 */
export type ChannelAccess = 'public' | 'owner';

export interface ChannelDefinition<
  TFamily extends string = string,
  TEvents extends Record<string, EventSpec> = Record<string, EventSpec>,
> {
  readonly family: TFamily;
  readonly events: TEvents;
  readonly access: ChannelAccess;
  /** Whether the server tracks who is subscribed (see `defineChannel`'s `presence` option). */
  readonly presence: boolean;
  /** The full channel name for a key: `chat` + `room-1` → `chat:room-1`. Throws on an invalid name. */
  name(key: string): `${TFamily}:${string}`;
}

type AnyEvents = Record<string, EventSpec>;

/** Event type → payload type of a channel definition. */
export type EventPayloads<TDef extends ChannelDefinition> = {
  [K in keyof TDef['events'] & string]: z.infer<TDef['events'][K]['schema']>;
};

/** Event types a client may publish on a channel (those not marked `clientPublish: false`). */
export type PublishableEventType<TDef extends ChannelDefinition> = {
  [K in keyof TDef['events'] & string]: TDef['events'][K]['clientPublish'] extends false ? never : K;
}[keyof TDef['events'] & string];

/** A delivered event of a channel, discriminated by `type` so `payload` narrows in a switch. */
export type ChannelEvent<TDef extends ChannelDefinition> = {
  [K in keyof EventPayloads<TDef> & string]: Envelope<K, EventPayloads<TDef>[K]>;
}[keyof EventPayloads<TDef> & string];

/**
 * Binds a channel family to one zod schema per event type, so `publish` and `subscribe` are typed and
 * validated from this single definition on both ends.
 *
 * @example
 * export const chatChannel = defineChannel({
 *   family: 'chat',
 *   presence: true,
 *   events: {
 *     message: { schema: z.object({ text: z.string().min(1).max(2000) }) },
 *     typing: { schema: z.object({ typing: z.boolean() }), ephemeral: true },
 *   },
 * });
 */
export function defineChannel<const TFamily extends string, const TEvents extends AnyEvents>(definition: {
  family: TFamily;
  events: TEvents;
  access?: ChannelAccess;
  /**
   * Track who is subscribed: members, join/leave/metadata changes as `$presence` events, `channel.presence`
   * and `channel.setPresence`. Every join and leave is one event to every member, so it is opt-in: a channel
   * with thousands of subscribers that nobody lists (a ticker, a broadcast) should leave it off.
   * @default false
   */
  presence?: boolean;
}): ChannelDefinition<TFamily, TEvents> {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(definition.family)) {
    throw new TypeError(`defineChannel: family "${definition.family}" must match /^[a-z][a-z0-9_-]{0,31}$/`);
  }
  return {
    family: definition.family,
    events: definition.events,
    access: definition.access ?? 'public',
    presence: definition.presence ?? false,
    name(key) {
      const name = `${definition.family}:${key}` as const;
      channelNameSchema.parse(name);
      return name;
    },
  };
}

/** Looks up channel definitions by family; what the server consults for every publish and subscribe. */
export interface ChannelCatalog {
  /** The definition for a channel name, or undefined when its family is unknown. */
  get(channel: string): ChannelDefinition | undefined;
  readonly definitions: readonly ChannelDefinition[];
}

export function createChannelCatalog(definitions: readonly ChannelDefinition[]): ChannelCatalog {
  const byFamily = new Map<string, ChannelDefinition>();
  for (const definition of definitions) {
    if (byFamily.has(definition.family)) {
      throw new TypeError(`createChannelCatalog: family "${definition.family}" is defined twice`);
    }
    byFamily.set(definition.family, definition);
  }
  return {
    definitions,
    get: (channel) => byFamily.get(parseChannelName(channel).family),
  };
}
