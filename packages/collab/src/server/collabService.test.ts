import { ErrorCode, isSwitchboardError } from '@switchboard/protocol';
import { MAX_OP_COMPONENTS, MAX_OP_TEXT_LENGTH } from '@switchboard/protocol/demo';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollabService, createCollabService } from './collabService.ts';
import type { DocStore } from './docStore.ts';
import { createMemoryDocStore } from './memoryDocStore.ts';
import type { SubmitInput } from './submitOp.ts';

async function expectError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isSwitchboardError(error), `expected a SwitchboardError, got ${String(error)}`).toBe(true);
  if (!isSwitchboardError(error)) return;
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

const services: CollabService[] = [];
function serviceOn(store: DocStore, maxCommitAttempts?: number): CollabService {
  const service = createCollabService({ store, maxCommitAttempts });
  services.push(service);
  return service;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});

function submitter(service: CollabService, docId = 'doc') {
  let counter = 0;
  return (version: number, op: SubmitInput['op'], opId = `op${++counter}`) =>
    service.submit({ docId, version, op, opId, userId: 'alice' });
}

describe('open', () => {
  it('opens a new document at version 0 with empty text', async () => {
    expect(await serviceOn(createMemoryDocStore()).open('fresh')).toEqual({ version: 0, text: '' });
  });

  it('rejects an invalid document id with BAD_REQUEST', async () => {
    await expectError(serviceOn(createMemoryDocStore()).open('no spaces'), ErrorCode.BAD_REQUEST);
  });
});

describe('submit', () => {
  it('commits ops as sequential versions', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    expect(await submit(0, ['hello'])).toEqual({ version: 1 });
    expect(await submit(1, [5, ' world'])).toEqual({ version: 2 });
    expect(await service.open('doc')).toEqual({ version: 2, text: 'hello world' });
  });

  it('transforms an op made at an older version against each op committed since', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['abc']);
    await submit(1, [{ d: 1 }]); // "bc"
    await submit(2, [2, '!']); // "bc!"
    // Made against "abc": insert X before "c".
    expect(await submit(1, [2, 'X'])).toEqual({ version: 4 });
    expect((await service.open('doc')).text).toBe('bXc!');
    // Made against "bc!", at the place where X went: the later submit's insert goes first (side 'left').
    expect(await submit(3, [1, '?'])).toEqual({ version: 5 });
    expect((await service.open('doc')).text).toBe('b?Xc!');
  });

  it('counts positions in code points (emoji, combining marks)', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['😀e\u0301']);
    await submit(1, [1, '👍🏽']);
    await submit(1, [3, '!']);
    expect((await service.open('doc')).text).toBe('😀👍🏽e\u0301!');
  });

  it('acknowledges a resubmitted op id with its version instead of applying it twice', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['a'], 'once');
    await submit(1, [1, 'b']);
    expect(await submit(0, ['a'], 'once')).toEqual({ version: 1 });
    // Also when the retry races the original.
    const [first, second] = await Promise.all([submit(2, ['x'], 'race'), submit(2, ['x'], 'race')]);
    expect(first).toEqual({ version: 3 });
    expect(second).toEqual({ version: 3 });
    expect(await service.open('doc')).toEqual({ version: 3, text: 'xab' });
  });

  it.each([
    ['a skip past the end', [10, 'x'], /past the end/],
    ['a delete past the end', [2, { d: 5 }], /past the end/],
    ['a delete whose text differs', [{ d: 'zz' }], /does not match/],
    ['a zero skip', [0, 'x'], /invalid submit/],
    ['an empty insert', [''], /invalid submit/],
    ['a component of the wrong type', [true], /invalid submit/],
    ['a lone surrogate', ['\uD83D'], /surrogate/],
    [
      'too many components',
      Array.from({ length: MAX_OP_COMPONENTS + 1 }, (_, i) => (i % 2 ? 'x' : 1)),
      /invalid submit/,
    ],
    ['too long an insert', ['x'.repeat(MAX_OP_TEXT_LENGTH + 1)], /invalid submit/],
  ])('rejects %s with BAD_REQUEST and leaves the document intact', async (_name, op, message) => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['abc']);
    await expectError(submit(1, op as SubmitInput['op']), ErrorCode.BAD_REQUEST, message);
    expect(await service.open('doc')).toEqual({ version: 1, text: 'abc' });
    expect(await submit(1, [3, 'd'])).toEqual({ version: 2 });
  });

  it('rejects an op that is out of range at its version even after transforming', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['abc']);
    await submit(1, ['more']);
    await expectError(submit(1, [4, 'x']), ErrorCode.BAD_REQUEST, /past the end/);
    expect(await service.open('doc')).toEqual({ version: 2, text: 'moreabc' });
  });

  it('rejects a version ahead of the document, and malformed versions and ids', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['a']);
    await expectError(submit(2, ['x']), ErrorCode.BAD_REQUEST, /ahead of the document/);
    await expectError(submit(-1, ['x']), ErrorCode.BAD_REQUEST);
    await expectError(submit(0, ['x'], ''), ErrorCode.BAD_REQUEST);
    await expectError(
      service.submit({ docId: 'bad id', version: 0, op: ['x'], opId: 'a', userId: 'u' }),
      ErrorCode.BAD_REQUEST,
    );
    expect(await service.open('doc')).toEqual({ version: 1, text: 'a' });
  });

  it('rejects a version that is no longer in the op log', async () => {
    const service = serviceOn(createMemoryDocStore({ snapshotEvery: 2, retainOps: 1 }));
    const submit = submitter(service);
    for (let version = 0; version < 6; version++) await submit(version, ['x']);
    await expectError(submit(2, ['y']), ErrorCode.BAD_REQUEST, /reopen/);
    expect(await submit(5, ['y'])).toEqual({ version: 7 });
  });

  it('keeps the log bounded with snapshots, and open() combines the snapshot with the tail', async () => {
    const store = createMemoryDocStore({ snapshotEvery: 5, retainOps: 2 });
    const service = serviceOn(store);
    const submit = submitter(service);
    let expected = '';
    for (let version = 0; version < 33; version++) {
      const piece = version % 3 === 0 ? '😀' : String(version % 10);
      expected += piece;
      await submit(
        version,
        expected.length > piece.length ? [Array.from(expected).length - 1, piece] : [piece],
      );
      expect((await store.load('doc')).ops.length).toBeLessThanOrEqual(5 + 2);
    }
    expect(await service.open('doc')).toEqual({ version: 33, text: expected });
    // Another service on the same store (a restarted instance) sees the same document.
    expect(await serviceOn(store).open('doc')).toEqual({ version: 33, text: expected });
  });

  it('re-transforms against ops another instance committed in between, and retries', async () => {
    const store = createMemoryDocStore();
    const service = serviceOn(interleavingStore(store, 2));
    await service.submit({ docId: 'doc', version: 0, op: ['mine'], opId: 'mine', userId: 'alice' });
    const { text, version } = await service.open('doc');
    expect(version).toBe(3);
    expect(text).toBe('minefr');
  });

  it('fails with BROKER_UNAVAILABLE after maxCommitAttempts lost races, without committing', async () => {
    const store = createMemoryDocStore();
    const service = serviceOn(interleavingStore(store, Number.POSITIVE_INFINITY), 3);
    await expectError(
      service.submit({ docId: 'doc', version: 0, op: ['mine'], opId: 'mine', userId: 'alice' }),
      ErrorCode.BROKER_UNAVAILABLE,
      /busy/,
    );
    expect(await store.findOpId('doc', 'mine')).toBeNull();
  });

  it('reports a failing store as BROKER_UNAVAILABLE', async () => {
    const store = createMemoryDocStore();
    const service = serviceOn({ ...store, load: () => Promise.reject(new Error('ECONNREFUSED')) });
    await expectError(submitter(service)(0, ['x']), ErrorCode.BROKER_UNAVAILABLE);
    await expectError(service.open('doc'), ErrorCode.BROKER_UNAVAILABLE);
  });
});

describe('close', () => {
  it('refuses calls after close and is idempotent', async () => {
    const service = serviceOn(createMemoryDocStore());
    await service.close();
    await service.close();
    await expectError(service.open('doc'), ErrorCode.INTERNAL, /closed/);
  });
});

/**
 * A store on which "another instance" commits `racers` ops just before each of this service's commits, so
 * compare-and-append fails and the service must catch up: first 'f', then 'r', and so on.
 */
function interleavingStore(store: DocStore, racers: number): DocStore {
  let raced = 0;
  return {
    ...store,
    async commit(docId, op, textAfter) {
      if (raced < racers) {
        raced++;
        const { headVersion } = await store.readOps(docId, 0);
        const { text } = await createCollabService({ store }).open(docId);
        const char = raced % 2 ? 'f' : 'r';
        await store.commit(
          docId,
          {
            version: headVersion + 1,
            op: [Array.from(text).length, char].filter(Boolean),
            opId: `racer${raced}`,
            userId: 'bob',
          },
          text + char,
        );
      }
      return store.commit(docId, op, textAfter);
    },
  };
}
