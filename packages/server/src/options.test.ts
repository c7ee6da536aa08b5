import { describe, expect, it } from 'vitest';
import { testRouter } from './__tests__/testServer.ts';
import { MIN_JWT_SECRET_BYTES, resolveServerOptions } from './options.ts';

const base = { router: testRouter, channels: [] };

describe('resolveServerOptions: jwt.secret', () => {
  it('refuses a secret shorter than 32 bytes, naming its length and how to make one', () => {
    expect(() => resolveServerOptions({ ...base, jwt: { secret: 'change-me' } })).toThrow(
      /jwt\.secret is 9 bytes; HS256 needs at least 32 .*openssl rand -base64 32/,
    );
    expect(() => resolveServerOptions({ ...base, jwt: { secret: new Uint8Array(31) } })).toThrow(/31 bytes/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 16 characters, 32 bytes.
    expect(() => resolveServerOptions({ ...base, jwt: { secret: 'é'.repeat(16) } })).not.toThrow();
    expect(() => resolveServerOptions({ ...base, jwt: { secret: 'é'.repeat(15) } })).toThrow(/30 bytes/);
  });

  it('accepts a secret of exactly the minimum', () => {
    expect(MIN_JWT_SECRET_BYTES).toBe(32);
    expect(() => resolveServerOptions({ ...base, jwt: { secret: 'x'.repeat(32) } })).not.toThrow();
    expect(() => resolveServerOptions({ ...base, jwt: { secret: new Uint8Array(32) } })).not.toThrow();
  });
});
