import {
  type ChannelCatalog,
  type ChannelDefinition,
  ErrorCode,
  parseChannelName,
  SwitchboardError,
} from '@switchboard/protocol';
import type { AuthUser } from './auth.ts';
import { badRequest } from './errors.ts';
import type { ChannelAuthorizer } from './options.ts';

export interface ChannelAccess {
  /** The channel's definition, after checking the user may subscribe; throws a SwitchboardError otherwise. */
  assertCanSubscribe(user: AuthUser, channel: string): Promise<ChannelDefinition>;
  /** The event's definition, after checking the user may publish it; throws a SwitchboardError otherwise. */
  assertCanPublish(user: AuthUser, channel: string, type: string): Promise<ChannelDefinition>;
}

/**
 * Who may read and write which channel: the family must be known, `owner` families (`user:<id>`) are
 * only for the user whose id is the key, server-only event types cannot be published by clients, and
 * the server's `canSubscribe`/`canPublish` hooks have the last word.
 */
export function createChannelAccess(
  catalog: ChannelCatalog,
  hooks: { canSubscribe?: ChannelAuthorizer; canPublish?: ChannelAuthorizer },
): ChannelAccess {
  function definitionFor(user: AuthUser, channel: string): ChannelDefinition {
    const definition = catalog.get(channel);
    if (!definition) throw badRequest(ErrorCode.UNKNOWN_CHANNEL, `unknown channel family in "${channel}"`);
    if (definition.access === 'owner' && parseChannelName(channel).key !== user.userId) {
      throw forbidden(channel);
    }
    return definition;
  }

  return {
    async assertCanSubscribe(user, channel) {
      const definition = definitionFor(user, channel);
      if (hooks.canSubscribe && !(await hooks.canSubscribe(user, channel))) throw forbidden(channel);
      return definition;
    },
    async assertCanPublish(user, channel, type) {
      const definition = definitionFor(user, channel);
      const spec = definition.events[type];
      if (!spec)
        throw badRequest(
          ErrorCode.UNKNOWN_EVENT_TYPE,
          `"${type}" is not an event type of ${definition.family}`,
        );
      if (spec.clientPublish === false) throw forbidden(channel, `"${type}" is published by the server only`);
      if (hooks.canPublish && !(await hooks.canPublish(user, channel, type))) throw forbidden(channel);
      return definition;
    },
  };
}

function forbidden(channel: string, detail = 'not allowed'): SwitchboardError {
  return new SwitchboardError(ErrorCode.FORBIDDEN, `${channel}: ${detail}`);
}
