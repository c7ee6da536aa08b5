/**
 * The behaviour every `DocStore` promises, as one suite: `memoryDocStore.test.ts` and `redisDocStore.test.ts`
 * each call `describeDocStore`. A new store implementation adds a test file that calls it too; a new promise
 * of the interface adds a test here, so both stores are held to it.
 */
import type { CommittedOp } from '@switchboard/protocol/demo';
import { afterEach, describe, expect, it } from 'vitest';
import type { DocStore } from './docStore.ts';
import type { DocStoreOptions } from './options.ts';

function op(version: number, text: string, opId = `op${version}`): CommittedOp {
  return { version, op: [text], opId, userId: 'u1' };
}

/** Commits `count` one-character inserts at the front, versions `from + 1 ..`; returns the final text. */
async function commitMany(
  store: DocStore,
  docId: string,
  from: number,
  count: number,
  text = '',
): Promise<string> {
  let current = text;
  for (let version = from + 1; version <= from + count; version++) {
    const char = String.fromCharCode(97 + (version % 26));
    current = char + current;
    const result = await store.commit(docId, op(version, char), current);
    expect(result).toEqual({ status: 'committed', version });
  }
  return current;
}

export function describeDocStore(
  name: string,
  makeStore: (options: DocStoreOptions) => Promise<DocStore> | DocStore,
) {
  describe(`DocStore contract: ${name}`, () => {
    const stores: DocStore[] = [];
    let docCounter = 0;
    const newDocId = () => `doc-${name.replace(/\W/g, '')}-${Date.now()}-${++docCounter}`;
    async function open(options: DocStoreOptions = {}): Promise<DocStore> {
      const store = await makeStore(options);
      stores.push(store);
      return store;
    }
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    it('starts a new document at version 0 with empty text', async () => {
      const store = await open();
      const docId = newDocId();
      expect(await store.load(docId)).toEqual({
        snapshot: { version: 0, text: '' },
        baseVersion: 0,
        ops: [],
      });
      expect(await store.readOps(docId, 0)).toEqual({ ops: [], baseVersion: 0, headVersion: 0 });
    });

    it('appends only at the next version and reports the head on conflict', async () => {
      const store = await open();
      const docId = newDocId();
      expect(await store.commit(docId, op(1, 'a'), 'a')).toEqual({ status: 'committed', version: 1 });
      expect(await store.commit(docId, op(1, 'b', 'other'), 'b')).toEqual({
        status: 'conflict',
        headVersion: 1,
      });
      expect(await store.commit(docId, op(3, 'b', 'other'), 'b')).toEqual({
        status: 'conflict',
        headVersion: 1,
      });
      expect((await store.load(docId, 0)).ops).toEqual([op(1, 'a')]);
    });

    it('lets exactly one of many concurrent commits take a version', async () => {
      const store = await open();
      const docId = newDocId();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.commit(docId, op(1, `${i}`, `racer${i}`), `${i}`)),
      );
      expect(results.filter((result) => result.status === 'committed')).toHaveLength(1);
      expect((await store.load(docId, 0)).ops).toHaveLength(1);
    });

    it('recognises an op id of the same author: duplicate with its version, nothing written', async () => {
      const store = await open();
      const docId = newDocId();
      await store.commit(docId, op(1, 'a', 'same'), 'a');
      await store.commit(docId, op(2, 'b'), 'ba');
      expect(await store.commit(docId, op(3, 'a', 'same'), 'aba')).toEqual({
        status: 'duplicate',
        version: 1,
      });
      expect(await store.findOpId(docId, 'u1', 'same')).toBe(1);
      expect(await store.findOpId(docId, 'u1', 'never')).toBeNull();
      expect((await store.readOps(docId, 0)).headVersion).toBe(2);
    });

    it('scopes op ids to their author: the same id from another user is another op', async () => {
      const store = await open();
      const docId = newDocId();
      await store.commit(docId, op(1, 'a', 'same'), 'a');
      // Ids that would collide if the key were a plain concatenation of user and op id.
      const other = { version: 2, op: ['b'], opId: 'same', userId: 'u2' };
      expect(await store.commit(docId, other, 'ba')).toEqual({ status: 'committed', version: 2 });
      expect(await store.commit(docId, { ...other, version: 3, userId: 'u1s', opId: 'ame' }, 'bba')).toEqual({
        status: 'committed',
        version: 3,
      });
      expect(await store.findOpId(docId, 'u2', 'same')).toBe(2);
      expect(await store.findOpId(docId, 'u1', 'same')).toBe(1);
      expect(await store.findOpId(docId, 'u3', 'same')).toBeNull();
    });

    it('reads the ops after a version', async () => {
      const store = await open();
      const docId = newDocId();
      await commitMany(store, docId, 0, 4);
      const range = await store.readOps(docId, 2);
      expect(range.ops.map((o) => o.version)).toEqual([3, 4]);
      expect(range).toMatchObject({ baseVersion: 0, headVersion: 4 });
    });

    it('keeps the text of the head, and reads it with the ops after a version in one call', async () => {
      const store = await open();
      const docId = newDocId();
      const text = await commitMany(store, docId, 0, 7);
      expect(await store.load(docId)).toEqual({ snapshot: { version: 7, text }, baseVersion: 0, ops: [] });
      const log = await store.load(docId, 5);
      expect(log.snapshot).toEqual({ version: 7, text });
      expect(log.ops.map((o) => o.version)).toEqual([6, 7]);
    });

    it('keeps only the last retainOps ops, and forgets the ids of dropped ones', async () => {
      const store = await open({ retainOps: 3 });
      const docId = newDocId();
      const text = await commitMany(store, docId, 0, 23);
      const log = await store.load(docId, 0);
      expect(log.snapshot).toEqual({ version: 23, text });
      expect(log.baseVersion).toBe(20);
      expect(log.ops.map((o) => o.version)).toEqual([21, 22, 23]);
      // Ops dropped from the log are forgotten by the op-id index too, so it stays bounded as well.
      expect(await store.findOpId(docId, 'u1', 'op20')).toBeNull();
      expect(await store.findOpId(docId, 'u1', 'op21')).toBe(21);
      expect(await store.readOps(docId, 10)).toMatchObject({ baseVersion: 20, headVersion: 23 });
    });

    it('deletes a document nobody edited for documentTtlMs, and reading it does not keep it', async () => {
      const store = await open({ documentTtlMs: 400 });
      const [idle, busy] = [newDocId(), newDocId()];
      const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
      await commitMany(store, idle, 0, 2);
      let text = await commitMany(store, busy, 0, 1);
      await pause();
      // Read at half the TTL: still there, and the read must not extend its life.
      expect((await store.load(idle)).snapshot.version).toBe(2);
      text = await commitMany(store, busy, 1, 1, text);
      await pause();
      text = await commitMany(store, busy, 2, 1, text);
      await pause();
      expect(await store.load(idle, 0)).toEqual({
        snapshot: { version: 0, text: '' },
        baseVersion: 0,
        ops: [],
      });
      expect(await store.findOpId(idle, 'u1', 'op1')).toBeNull();
      expect((await store.load(busy)).snapshot).toEqual({ version: 3, text });
    });

    it('delivers committed ops to subscribers in order, and stops after unsubscribe', async () => {
      const store = await open();
      const docId = newDocId();
      const received: number[] = [];
      let reached: () => void = () => {};
      const allThree = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const unsubscribe = await store.subscribe(docId, {
        onOp(committed) {
          received.push(committed.version);
          if (committed.version === 3) reached();
        },
      });
      await commitMany(store, docId, 0, 3);
      await allThree;
      expect(received).toEqual([1, 2, 3]);
      unsubscribe();
      // A second subscriber on the same document still receives, and the first one nothing more.
      const again: number[] = [];
      let gotFour: () => void = () => {};
      const four = new Promise<void>((resolve) => {
        gotFour = resolve;
      });
      await store.subscribe(docId, {
        onOp(committed) {
          again.push(committed.version);
          gotFour();
        },
      });
      await store.commit(docId, op(4, 'd'), 'dcba');
      await four;
      expect(again).toEqual([4]);
      expect(received).toEqual([1, 2, 3]);
    });

    it('keeps documents apart', async () => {
      const store = await open();
      const [a, b] = [newDocId(), newDocId()];
      await store.commit(a, op(1, 'a'), 'a');
      expect((await store.load(b, 0)).ops).toEqual([]);
      expect(await store.commit(b, op(1, 'b'), 'b')).toEqual({ status: 'committed', version: 1 });
    });
  });
}
