import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** Random bytes of a created secret (hex-encoded in the file): HS256's hash size, RFC 7518 §3.2. */
const SECRET_BYTES = 32;

export interface LocalSecret {
  secret: string;
  /** `file`: read from the file; `created`: written now; `random`: the file could not be written. */
  source: 'file' | 'created' | 'random';
}

/**
 * The demo's token secret when AUTH_SECRET is unset: read from `file`, or created there on first use (mode
 * 0600, exclusive create, so two instances starting together end up with the same secret). A secret that
 * outlives the process keeps people signed in across restarts. When the file can be neither read nor
 * written (read-only checkout), a random secret for this process only is returned. Surrounding whitespace
 * in the file is ignored, so it can be edited by hand.
 */
export function loadOrCreateLocalSecret(file: string): LocalSecret {
  const existing = readSecret(file);
  if (existing !== undefined) return { secret: existing, source: 'file' };
  const secret = randomBytes(SECRET_BYTES).toString('hex');
  try {
    writeFileSync(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return { secret, source: 'created' };
  } catch (error) {
    // Another instance created it between our read and write: use theirs.
    const raced = (error as NodeJS.ErrnoException).code === 'EEXIST' ? readSecret(file) : undefined;
    return raced === undefined ? { secret, source: 'random' } : { secret: raced, source: 'file' };
  }
}

function readSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
