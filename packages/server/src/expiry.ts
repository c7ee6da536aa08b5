import type { Logger } from 'pino';
import { closeWithError, connectionErrors } from './errors.ts';
import type { Registry } from './registry.ts';

/**
 * Ends connections whose credential expired (close 4501, terminal) unless it was refreshed in-band
 * (`auth.refresh` replaces `connection.user`). One timer for all connections instead of one per connection:
 * an expiry is enforced within `checkEveryMs`.
 */
export function startExpirySweep(registry: Registry, checkEveryMs: number, logger: Logger): { stop(): void } {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const connection of registry.all()) {
      const { expiresAt } = connection.user;
      if (expiresAt === undefined || expiresAt > now) continue;
      logger.info(
        { connectionId: connection.id, userId: connection.user.userId },
        'token expired: closing connection',
      );
      closeWithError(connection.socket, connectionErrors.tokenExpired());
    }
  }, checkEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
