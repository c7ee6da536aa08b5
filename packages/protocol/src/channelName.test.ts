import { describe, expect, it } from 'vitest';
import { channelNameSchema, parseChannelName } from './channelName.ts';

describe('channel name grammar', () => {
  it.each([
    'chat:room-42',
    'user:u_123',
    'collab:doc.1',
    'a:b',
    'dashboard:cluster',
    `chat:${'x'.repeat(195)}`,
  ])('accepts %s', (name) => {
    expect(channelNameSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['over 200 chars', `chat:${'x'.repeat(196)}`],
    ['control characters', 'chat:room\u0000'],
    ['a newline', 'chat:room\n'],
    ['a * wildcard', 'chat:*'],
    ['a > wildcard', 'chat:>'],
    ['a ? wildcard', 'chat:ro?m'],
    ['braces (Redis hash tags)', 'chat:{room}'],
    ['whitespace', 'chat:my room'],
    ['no family', ':room'],
    ['no key', 'chat:'],
    ['no separator', 'chatroom'],
    ['an uppercase family', 'Chat:room'],
  ])('rejects %s', (_, name) => {
    expect(channelNameSchema.safeParse(name).success).toBe(false);
  });

  it('splits family and key at the first colon', () => {
    expect(parseChannelName('collab:doc:1')).toEqual({ family: 'collab', key: 'doc:1' });
  });
});
