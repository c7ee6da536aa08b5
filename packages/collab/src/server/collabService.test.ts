import { ErrorCode, isSwitchboardError } from '@switchboard/protocol';
import { MAX_OP_COMPONENTS, MAX_OP_TEXT_LENGTH } from '@switchboard/protocol/demo';
import fc from 'fast-check';
import { type as textType } from 'ot-text-unicode';
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
function serviceOn(store: DocStore, maxCommitAttempts?: number, maxDocumentChars?: number): CollabService {
  const service = createCollabService({ store, maxCommitAttempts, maxDocumentChars });
  services.push(service);
  return service;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});

function submitter(service: CollabService, docId = 'doc', userId = 'alice') {
  let counter = 0;
  return (version: number, op: SubmitInput['op'], opId = `op${++counter}`) =>
    service.submit({ docId, version, op, opId, userId });
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

  it('scopes op ids to their author: the same id from another user is another op', async () => {
    const service = serviceOn(createMemoryDocStore());
    await submitter(service, 'doc', 'alice')(0, ['a'], 'shared');
    expect(await submitter(service, 'doc', 'mallory')(1, [1, 'b'], 'shared')).toEqual({ version: 2 });
    expect(await service.open('doc')).toEqual({ version: 2, text: 'ab' });
  });

  it('refuses an op id its author already used for another op with IDEMPOTENCY_CONFLICT, committing nothing', async () => {
    const service = serviceOn(createMemoryDocStore());
    const submit = submitter(service);
    await submit(0, ['abc'], 'first');
    await submit(1, [3, '!'], 'second');
    for (const [version, op] of [
      [0, ['xyz']], // same version, other text
      [1, [1, 'Q']], // a later version, other position
      [2, ['abc']], // after the op it names: its author has seen it acknowledged
    ] as const) {
      await expectError(submit(version, [...op], 'first'), ErrorCode.IDEMPOTENCY_CONFLICT, /another op/);
    }
    expect(await service.open('doc')).toEqual({ version: 2, text: 'abc!' });
  });

  it('acknowledges a retry its client transformed against ops it received meanwhile', async () => {
    const service = serviceOn(createMemoryDocStore());
    const alice = submitter(service, 'doc', 'alice');
    const bob = submitter(service, 'doc', 'bob');
    await alice(0, ['hello']);
    await bob(1, ['> ']); // "> hello"
    // Alice's op, made at version 1 ("hello"), is committed at 3; its ack is lost.
    expect(await alice(1, [5, ' world'], 'lost-ack')).toEqual({ version: 3 });
    await bob(3, [{ d: 2 }]); // "hello world"
    // Alice received Bob's version 2 before she resent, and transformed her op against it, as OtClient does.
    const transformed = textType.transform([5, ' world'], ['> '], 'left');
    expect(transformed).toEqual([7, ' world']);
    expect(await alice(2, transformed, 'lost-ack')).toEqual({ version: 3 });
    expect(await service.open('doc')).toEqual({ version: 4, text: 'hello world' });
  });

  it('refuses every other op reused under a committed id (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 8 }).filter((t) => /^[a-z]+$/.test(t)),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        async (text, first, second, deleteSecond) => {
          const service = createCollabService({ store: createMemoryDocStore() });
          const submit = submitter(service);
          await submit(0, [text]);
          const at = (n: number) => n % (text.length + 1);
          const original = at(first) > 0 ? [at(first), 'X'] : ['X'];
          await submit(1, original, 'reused');
          const other =
            deleteSecond && at(second) < text.length
              ? [at(second), { d: 1 }].filter((c) => c !== 0)
              : [at(second), 'Y'].filter((c) => c !== 0);
          await expectError(submit(1, other as SubmitInput['op'], 'reused'), ErrorCode.IDEMPOTENCY_CONFLICT);
          // The same op again is still the same op.
          expect(await submit(1, original, 'reused')).toEqual({ version: 2 });
          expect((await service.open('doc')).version).toBe(2);
          await service.close();
        },
      ),
      { seed: 11, numRuns: 100 },
    );
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

  it('rejects a version that is no longer in the op log, naming the recovery', async () => {
    const service = serviceOn(createMemoryDocStore({ retainOps: 2 }));
    const submit = submitter(service);
    for (let version = 0; version < 6; version++) await submit(version, ['x']);
    await expectError(submit(3, ['y']), ErrorCode.BAD_REQUEST, /reopen the document/);
    expect(await submit(4, ['y'])).toEqual({ version: 7 });
  });

  it('keeps the log bounded, and open() reads the head without replaying it', async () => {
    const store = createMemoryDocStore({ retainOps: 2 });
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
      expect((await store.readOps('doc', 0)).ops.length).toBeLessThanOrEqual(2);
    }
    expect(await service.open('doc')).toEqual({ version: 33, text: expected });
    // Another service on the same store (a restarted instance) sees the same document.
    expect(await serviceOn(store).open('doc')).toEqual({ version: 33, text: expected });
  });

  it('refuses an op that grows the document past maxDocumentChars (in code points), and accepts shrinking it', async () => {
    const service = serviceOn(createMemoryDocStore(), undefined, 5);
    const submit = submitter(service);
    await submit(0, ['😀😀😀😀']); // 8 UTF-16 units, 4 characters
    await expectError(submit(1, [4, 'ab']), ErrorCode.BAD_REQUEST, /maxDocumentChars/);
    expect(await submit(1, [4, '😀'])).toEqual({ version: 2 });
    await expectError(submit(2, ['x']), ErrorCode.BAD_REQUEST, /maxDocumentChars/);
    // A document over the limit (the limit was lowered on the same store) can still shrink.
    const store = createMemoryDocStore();
    await submitter(serviceOn(store))(0, ['abcdef']);
    const lowered = submitter(serviceOn(store, undefined, 3), 'doc', 'bob');
    await expectError(lowered(1, [6, 'g']), ErrorCode.BAD_REQUEST, /maxDocumentChars/);
    expect(await lowered(1, [{ d: 2 }])).toEqual({ version: 2 });
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
    expect(await store.findOpId('doc', 'alice', 'mine')).toBeNull();
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
