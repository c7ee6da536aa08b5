import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { closeOf, connectRaw, startTestServer } from './__tests__/testServer.ts';
import { type Connection, createRegistry } from './registry.ts';

const track = useCleanup();

function entry(id: string, userId: string, socket: Connection['socket']): Connection {
  return {
    id,
    socket,
    user: { userId, name: userId, roles: [] },
    connectedAt: Date.now(),
    lastSeenAt: Date.now(),
    isSubscribedTo: () => false,
    subscribedChannels: () => new Map(),
    presenceMeta: undefined,
    setPresenceMeta: () => {},
    send: () => true,
    sendFrame: () => true,
    dispose: () => {},
  };
}

describe('registry', () => {
  it('finds connections by id and by user, and forgets them on remove', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('a')), (s) => s.close());
    const registry = createRegistry();
    registry.add(entry('1', 'alice', socket));
    registry.add(entry('2', 'alice', socket));
    registry.add(entry('3', 'bob', socket));
    expect(registry.byUser('alice').map((c) => c.id)).toEqual(['1', '2']);
    expect([registry.countByUser('alice'), registry.countByUser('bob'), registry.countByUser('eve')]).toEqual(
      [2, 1, 0],
    );
    registry.remove('1');
    registry.remove('1');
    expect(registry.byUser('alice').map((c) => c.id)).toEqual(['2']);
    expect(registry.countByUser('alice')).toBe(1);
    expect(registry.get('3')?.user.userId).toBe('bob');
    expect(registry.size).toBe(2);
    registry.add(entry('4', 'alice', socket));
    expect(registry.byUser('alice').map((c) => c.id)).toEqual(['2', '4']);
    registry.remove('2');
    registry.remove('4');
    expect([registry.byUser('alice'), registry.countByUser('alice')]).toEqual([[], 0]);
  });

  it('sweeps entries whose socket closed without the close handler running', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const open = track(await connectRaw(fixture.wsUrl, await fixture.sign('a')), (s) => s.close());
    const dead = await connectRaw(fixture.wsUrl, await fixture.sign('b'));
    const closed = closeOf(dead);
    dead.close();
    await closed;
    const registry = createRegistry();
    registry.add(entry('open', 'a', open));
    registry.add(entry('dead', 'b', dead));
    expect(registry.sweep().map((c) => c.id)).toEqual(['dead']);
    expect(registry.byUser('b')).toEqual([]);
    expect(registry.size).toBe(1);
  });
});
