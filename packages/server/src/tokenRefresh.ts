import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import type { AuthUser, TokenVerifier } from './auth.ts';
import type { Registry } from './registry.ts';
import type { SwitchboardServices } from './router.ts';

/**
 * In-band token refresh (`auth.refresh`): verifies `token` and, when it names the same user, makes it the
 * connection's credential, so the expiry sweep reads the new expiry. Resolves with the new user.
 * Rejects with a SwitchboardError: BAD_REQUEST when the server verifies no tokens itself (custom
 * `authenticate`) or the connection is gone, UNAUTHORIZED for a token that does not verify, FORBIDDEN for
 * a token of another user.
 */
export function createTokenRefresh(
  registry: Registry,
  verifyToken: TokenVerifier | undefined,
): SwitchboardServices['refreshToken'] {
  return async function refreshToken(connectionId, token) {
    const connection = registry.get(connectionId);
    if (!verifyToken || !connection)
      throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'token refresh is not available');
    let user: AuthUser;
    try {
      user = await verifyToken(token);
    } catch (cause) {
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'invalid token', { cause });
    }
    if (user.userId !== connection.user.userId) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, 'a refreshed token must be for the same user');
    }
    // The expiry sweep reads the new expiry from here.
    connection.user = user;
    return user;
  };
}
