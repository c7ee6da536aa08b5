import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';

describe('readConfig', () => {
  it.each([
    [{}, true],
    [{ NODE_ENV: 'production' }, false],
    [{ NODE_ENV: 'production', DEV_LOGIN: '1' }, true],
    [{ NODE_ENV: 'production', DEV_LOGIN: 'true' }, true],
    [{ DEV_LOGIN: '0' }, false],
    [{ NODE_ENV: 'development', DEV_LOGIN: 'false' }, false],
  ])('dev login for %j is %s', (env, expected) => {
    expect(readConfig(env).devLogin).toBe(expected);
  });

  it('refuses a DEV_LOGIN it does not understand instead of guessing', () => {
    expect(() => readConfig({ DEV_LOGIN: 'yes please' })).toThrow(/DEV_LOGIN must be 1, true, 0 or false/);
  });

  it('reads TRUST_PROXY as a hop count, 0 by default, and refuses anything else', () => {
    expect(readConfig({}).trustProxyHops).toBe(0);
    expect(readConfig({ TRUST_PROXY: '2' }).trustProxyHops).toBe(2);
    expect(() => readConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => readConfig({ TRUST_PROXY: '1.5' })).toThrow(/number of proxies/);
  });

  it('reads MAX_CONNECTIONS_PER_USER', () => {
    expect(readConfig({ MAX_CONNECTIONS_PER_USER: '5' }).maxConnectionsPerUser).toBe(5);
    expect(readConfig({}).maxConnectionsPerUser).toBeUndefined();
  });
});
