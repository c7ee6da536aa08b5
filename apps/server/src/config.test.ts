import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A secret file of this test's own, so no test writes `apps/server/.auth-secret`. */
const secretFile = () => join(dir, `secret-${files++}`);
const base = () => ({ AUTH_SECRET_FILE: secretFile() });

describe('readConfig', () => {
  it.each([
    [{}, true],
    [{ NODE_ENV: 'production' }, false],
    [{ NODE_ENV: 'production', DEV_LOGIN: '1' }, true],
    [{ NODE_ENV: 'production', DEV_LOGIN: 'true' }, true],
    [{ DEV_LOGIN: '0' }, false],
    [{ NODE_ENV: 'development', DEV_LOGIN: 'false' }, false],
  ])('dev login for %j is %s', (env, expected) => {
    expect(readConfig({ ...base(), ...env }).devLogin).toBe(expected);
  });

  it('refuses a DEV_LOGIN it does not understand instead of guessing', () => {
    expect(() => readConfig({ ...base(), DEV_LOGIN: 'yes please' })).toThrow(
      /DEV_LOGIN must be 1, true, 0 or false/,
    );
  });

  it('reads TRUST_PROXY as a hop count, 0 by default, and refuses anything else', () => {
    expect(readConfig(base()).trustProxyHops).toBe(0);
    expect(readConfig({ ...base(), TRUST_PROXY: '2' }).trustProxyHops).toBe(2);
    expect(() => readConfig({ ...base(), TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => readConfig({ ...base(), TRUST_PROXY: '1.5' })).toThrow(/number of proxies/);
  });

  it('reads MAX_CONNECTIONS_PER_USER', () => {
    expect(readConfig({ ...base(), MAX_CONNECTIONS_PER_USER: '5' }).maxConnectionsPerUser).toBe(5);
    expect(readConfig(base()).maxConnectionsPerUser).toBeUndefined();
  });
});

describe('AUTH_SECRET', () => {
  it('refuses a secret shorter than 32 bytes, naming the variable and how to make one', () => {
    expect(() => readConfig({ AUTH_SECRET: 'x'.repeat(31) })).toThrow(
      'AUTH_SECRET is 31 bytes, at least 32 needed: set AUTH_SECRET=$(openssl rand -hex 32)',
    );
    // Bytes, not characters: 16 two-byte characters are enough.
    expect(readConfig({ AUTH_SECRET: 'é'.repeat(16) }).authSecretSource).toBe('env');
  });

  it('creates a secret file once when AUTH_SECRET is unset and reads the same secret after', () => {
    const file = secretFile();
    const first = readConfig({ AUTH_SECRET_FILE: file });
    expect(first.authSecretSource).toBe('created');
    expect(first.authSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.authSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = readConfig({ AUTH_SECRET_FILE: file });
    expect(again).toMatchObject({ authSecret: first.authSecret, authSecretSource: 'file' });
    // AUTH_SECRET wins over the file.
    expect(readConfig({ AUTH_SECRET_FILE: file, AUTH_SECRET: 'y'.repeat(32) }).authSecret).toBe(
      'y'.repeat(32),
    );
  });

  it('refuses a secret file holding too short a secret, saying to delete it', () => {
    const file = secretFile();
    writeFileSync(file, 'short\n');
    expect(() => readConfig({ AUTH_SECRET_FILE: file })).toThrow(`${file} holds 5 bytes`);
  });

  it('falls back to a per-process secret when the file cannot be written', () => {
    const config = readConfig({ AUTH_SECRET_FILE: join(dir, 'missing-dir', 'secret') });
    expect(config.authSecretSource).toBe('random');
    expect(config.authSecret).toMatch(/^[0-9a-f]{64}$/);
  });
});
