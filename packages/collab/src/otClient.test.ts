import type { CommittedOp } from '@switchboard/protocol/demo';
import type { TextOp } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import type { TextChange } from './options.ts';
import { createOtClient } from './otClient.ts';

/** Records submits; each returns a promise the test settles. */
function fakeServer() {
  const calls: { op: TextOp; version: number; opId: string; reject: (error: unknown) => void }[] = [];
  let nextId = 0;
  return {
    calls,
    createOpId: () => `op${++nextId}`,
    submit: (op: TextOp, version: number, opId: string) =>
      new Promise<{ version: number }>((_resolve, reject) => {
        calls.push({ op, version, opId, reject });
      }),
  };
}

function committed(version: number, op: TextOp, opId: string, userId = 'u'): CommittedOp {
  return { version, op, opId, userId };
}

describe('createOtClient', () => {
  it("takes only its own user's op for the ack when userId is set: the same op id from another user is theirs", () => {
    const server = fakeServer();
    const client = createOtClient({ version: 0, text: 'ab', userId: 'u', ...server });
    client.applyLocal([2, '!']);
    // Another user's op that happens to carry our op id: applied as a remote edit, ours stays in flight.
    expect(client.receive(committed(1, ['>'], 'op1', 'mallory'))).toBe('applied');
    expect(client.getSnapshot()).toMatchObject({ status: 'sending', inflightOpId: 'op1', text: '>ab!' });
    expect(client.receive(committed(2, [3, '!'], 'op1', 'u'))).toBe('acknowledged');
    expect(client.getSnapshot()).toMatchObject({ status: 'synced', version: 2, text: '>ab!' });
  });

  it('keeps one op in flight and composes later edits into the pending buffer', () => {
    const server = fakeServer();
    const client = createOtClient({ version: 3, text: 'abc', ...server });
    client.applyLocal([3, 'd']);
    client.applyLocal([4, 'e']);
    client.applyLocal([5, 'f']);
    expect(client.text).toBe('abcdef');
    expect(server.calls).toEqual([expect.objectContaining({ op: [3, 'd'], version: 3, opId: 'op1' })]);
    expect(client.getSnapshot()).toMatchObject({ status: 'sending', inflightOpId: 'op1', pendingOps: 1 });

    expect(client.receive(committed(4, [3, 'd'], 'op1'))).toBe('acknowledged');
    expect(server.calls[1]).toMatchObject({ op: [4, 'ef'], version: 4, opId: 'op2' });
    expect(client.receive(committed(5, [4, 'ef'], 'op2'))).toBe('acknowledged');
    expect(client.getSnapshot()).toMatchObject({
      status: 'synced',
      version: 5,
      text: 'abcdef',
      pendingOps: 0,
    });
  });

  it('transforms a remote op against the in-flight and pending ops before applying it', () => {
    const server = fakeServer();
    const changes: TextChange[] = [];
    const client = createOtClient({ version: 0, text: 'hello', ...server, onChange: (c) => changes.push(c) });
    client.applyLocal(['A']); // in flight
    client.applyLocal([6, 'B']); // pending
    // Another client deleted "ell" concurrently; the server committed it first.
    expect(client.receive(committed(1, [1, { d: 3 }], 'other'))).toBe('applied');
    expect(client.text).toBe('AhoB');
    expect(changes.at(-1)).toMatchObject({
      source: 'remote',
      op: [2, { d: 3 }],
      previousText: 'AhelloB',
      version: 1,
    });
    // The server transforms our in-flight op against the same op and commits it as version 2.
    expect(client.receive(committed(2, ['A'], 'op1'))).toBe('acknowledged');
    expect(server.calls[1]).toMatchObject({ op: [3, 'B'], version: 2 });
  });

  it('puts a local insert before a concurrent remote insert at the same position, as the server does', () => {
    const server = fakeServer();
    const client = createOtClient({ version: 0, text: '', ...server });
    client.applyLocal(['mine']);
    client.receive(committed(1, ['theirs'], 'other'));
    expect(client.text).toBe('minetheirs');
  });

  it('ignores duplicates and reports gaps without applying them', () => {
    const client = createOtClient({ version: 2, text: 'ab', ...fakeServer() });
    expect(client.receive(committed(2, ['x'], 'old'))).toBe('duplicate');
    expect(client.receive(committed(4, ['x'], 'later'))).toBe('gap');
    expect(client.getSnapshot()).toMatchObject({ version: 2, text: 'ab' });
  });

  it('marks a rejected submit failed and resends it with the same op id and the current version', async () => {
    const server = fakeServer();
    const errors: unknown[] = [];
    const client = createOtClient({ version: 0, text: '', ...server, onSubmitError: (e) => errors.push(e) });
    client.applyLocal(['a']);
    client.receive(committed(1, ['z'], 'other'));
    server.calls[0]!.reject(new Error('socket closed'));
    await Promise.resolve();
    expect(errors).toEqual([new Error('socket closed')]);
    expect(client.getSnapshot().status).toBe('failed');

    client.applyLocal([2, 'b']); // offline edit: waits behind the unacknowledged op
    expect(server.calls).toHaveLength(1);
    client.reconnected();
    expect(server.calls[1]).toMatchObject({ op: ['a'], version: 1, opId: 'op1' });
    expect(client.getSnapshot()).toMatchObject({ status: 'sending', pendingOps: 1 });
    // A late rejection of the superseded attempt changes nothing.
    server.calls[0]!.reject(new Error('late'));
    await Promise.resolve();
    expect(client.getSnapshot().status).toBe('sending');
    expect(errors).toHaveLength(1);
  });

  it('rejects a local op that does not fit the text and leaves the state unchanged', () => {
    const server = fakeServer();
    const client = createOtClient({ version: 0, text: 'ab', ...server });
    expect(() => client.applyLocal([5, 'x'])).toThrow(/past the end/);
    expect(client.getSnapshot()).toMatchObject({ text: 'ab', status: 'synced' });
    expect(server.calls).toHaveLength(0);
  });

  it('notifies subscribers with a new snapshot object on every change', () => {
    const client = createOtClient({ version: 0, text: '', ...fakeServer() });
    const seen: unknown[] = [];
    const unsubscribe = client.subscribe(() => seen.push(client.getSnapshot()));
    const before = client.getSnapshot();
    client.applyLocal(['x']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(before);
    unsubscribe();
    client.receive(committed(1, ['y'], 'other'));
    expect(seen).toHaveLength(1);
  });

  it('reset drops unacknowledged edits and starts from the given document', async () => {
    const server = fakeServer();
    const changes: TextChange[] = [];
    const client = createOtClient({ version: 0, text: '', ...server, onChange: (c) => changes.push(c) });
    client.applyLocal(['a']);
    client.reset({ version: 7, text: 'fresh' });
    expect(client.getSnapshot()).toMatchObject({
      version: 7,
      text: 'fresh',
      status: 'synced',
      pendingOps: 0,
    });
    expect(changes.at(-1)).toMatchObject({ source: 'reset', previousText: 'a', text: 'fresh' });
    server.calls[0]!.reject(new Error('late'));
    await Promise.resolve();
    expect(client.getSnapshot().status).toBe('synced');
  });

  it('splits an oversized edit into submits that fit the limits', () => {
    const server = fakeServer();
    const client = createOtClient({ version: 0, text: '', ...server });
    client.applyLocal(['x'.repeat(25_000)]);
    expect(server.calls[0]!.op).toEqual(['x'.repeat(10_000)]);
    expect(client.getSnapshot().pendingOps).toBe(2);
  });

  it('refuses an impossible starting version', () => {
    expect(() => createOtClient({ version: -1, text: '', ...fakeServer() })).toThrow(TypeError);
  });
});
