import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createChannelCatalog, defineChannel } from './defineChannel.ts';

const chat = defineChannel({
  family: 'chat',
  events: { message: { schema: z.object({ text: z.string() }) } },
});

describe('defineChannel', () => {
  it('builds validated channel names', () => {
    expect(chat.name('room-1')).toBe('chat:room-1');
    expect(() => chat.name('bad room')).toThrow();
  });

  it('rejects an invalid family', () => {
    expect(() => defineChannel({ family: 'Bad Family', events: {} })).toThrow(/family/);
  });

  it('defaults access to public', () => {
    expect(chat.access).toBe('public');
  });
});

describe('createChannelCatalog', () => {
  it('finds definitions by family and refuses duplicates', () => {
    const catalog = createChannelCatalog([chat]);
    expect(catalog.get('chat:x')).toBe(chat);
    expect(catalog.get('other:x')).toBeUndefined();
    expect(() => createChannelCatalog([chat, chat])).toThrow(/twice/);
  });
});
