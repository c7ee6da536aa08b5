/**
 * The behaviour every `Broker` must have, as one vitest suite: `describeBroker(name, makeBroker)`.
 * `memory.test.ts` and `redis.test.ts` (single node and cluster) call it, so both brokers keep one
 * contract (the way socket.io-redis-adapter runs one `testSuite` per client and mode).
 *
 * Every test creates its brokers through `makeBroker`, uses channel names of its own (a Redis broker keeps
 * state between tests) and waits for deliveries, never for time. To extend: add an `it` that uses only the
 * `Broker` interface; behaviour that only one broker has belongs in that broker's test file.
 */
import { ErrorCode, isSwitchboardError } from '@switchboard/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, BrokerEvent, OutgoingEvent } from './broker.ts';
import { formatEventId, parseEventId } from './eventId.ts';

export interface MakeBrokerOptions {
  /** Stored events per channel. */
  historySize: number;
  /** Age after which stored events are evicted, in ms; unset means the broker's default. */
  historyMaxAgeMs?: number;
}

export type MakeBroker<B extends Broker = Broker> = (options: MakeBrokerOptions) => B | Promise<B>;

/** What the suite needs to see beyond the `Broker` interface. */
export interface BrokerProbe<B extends Broker = Broker> {
  /**
   * How much state the broker keeps for channels named `<family>:...` (memory: channels with state, from
   * its `stats()`; Redis: keys). The release tests wait for it to fall back to 0.
   */
  retained(broker: B, family: string): Promise<number>;
}

const WAIT_MS = 5000;
const DEFAULT_HISTORY = 100;

/** Records what a listener receives and lets a test wait for a number of events. */
export interface Recorder {
  readonly events: BrokerEvent[];
  readonly listener: (event: BrokerEvent) => void;
  /** Resolves once `count` events arrived; rejects after `timeoutMs` with what did arrive. */
  waitFor(count: number, timeoutMs?: number): Promise<BrokerEvent[]>;
  /** Resolves once the events satisfy `done`; rejects after `timeoutMs` with what did arrive. */
  waitUntil(done: (events: readonly BrokerEvent[]) => boolean, timeoutMs?: number): Promise<BrokerEvent[]>;
}

export function recorder(): Recorder {
  const events: BrokerEvent[] = [];
  let waiters: { done: (events: readonly BrokerEvent[]) => boolean; resolve: () => void }[] = [];
  function waitUntil(done: (events: readonly BrokerEvent[]) => boolean, timeoutMs = WAIT_MS) {
    if (done(events)) return Promise.resolve(events);
    return new Promise<BrokerEvent[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((waiter) => waiter.done !== done);
        const got = events.map((event) => event.id ?? event.type).join(', ');
        reject(new Error(`waited ${timeoutMs} ms; got ${events.length} events: ${got}`));
      }, timeoutMs);
      waiters.push({
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve(events);
        },
      });
    });
  }
  return {
    events,
    listener(event) {
      events.push(event);
      const finished = waiters.filter((waiter) => waiter.done(events));
      if (finished.length === 0) return;
      waiters = waiters.filter((waiter) => !finished.includes(waiter));
      for (const waiter of finished) waiter.resolve();
    },
    waitFor: (count, timeoutMs) => waitUntil((all) => all.length >= count, timeoutMs),
    waitUntil,
  };
}

let channelCounter = 0;
/** A channel name no other test (or earlier run against the same Redis) uses. */
export function uniqueChannel(family = 'test'): string {
  return `${family}:c${Date.now().toString(36)}-${process.pid}-${++channelCounter}`;
}

/** A channel family no other test uses, so a test can count the state of its own channels only. */
export function uniqueFamily(): string {
  return `f${Date.now().toString(36)}x${process.pid}x${++channelCounter}`;
}

/** For tests whose subject is time itself (expiry); everything else waits for events. */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function stored(type: string, payload: unknown = null): OutgoingEvent {
  return { type, json: JSON.stringify({ type, payload }), ephemeral: false };
}

export function ephemeral(type: string, payload: unknown = null): OutgoingEvent {
  return { type, json: JSON.stringify({ type, payload }), ephemeral: true };
}

/** A stored event carrying an idempotency key; the fingerprint stands for what the server hashes. */
export function keyed(key: string, payload: unknown, fingerprint = JSON.stringify(payload)): OutgoingEvent {
  return { ...stored('n', payload), idempotency: { key, fingerprint } };
}

/** The error a promise rejects with, or a failure when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => new Error(`resolved with ${JSON.stringify(value)}, expected a rejection`),
    (error: unknown) => error,
  );
}

/** Publishes `count` stored events one after another; returns their ids. */
export async function publishMany(
  broker: Broker,
  channel: string,
  count: number,
  type = 'n',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await broker.publish(channel, stored(type, i));
    ids.push(id!);
  }
  return ids;
}

/** The ids of stored events (the contract tests that publish them check they have one). */
const ids = (events: readonly BrokerEvent[]) => events.map((event) => event.id!);
const byUserId = <T extends { userId: string }>(members: T[]) =>
  [...members].sort((a, b) => a.userId.localeCompare(b.userId));

export function describeBroker<B extends Broker>(
  name: string,
  makeBroker: MakeBroker<B>,
  probe: BrokerProbe<B>,
): void {
  describe(`Broker contract: ${name}`, () => {
    const open: Broker[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((broker) => broker.close()));
    });
    async function make(options: Partial<MakeBrokerOptions> = {}): Promise<B> {
      const broker = await makeBroker({ historySize: DEFAULT_HISTORY, ...options });
      open.push(broker);
      return broker;
    }

    describe('#publish', () => {
      it('assigns stored events increasing ids that compareIds orders', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const published = await publishMany(broker, channel, 20);
        expect(new Set(published).size).toBe(20);
        for (let i = 1; i < published.length; i++) {
          expect(broker.compareIds(published[i - 1]!, published[i]!)).toBeLessThan(0);
          expect(broker.compareIds(published[i]!, published[i - 1]!)).toBeGreaterThan(0);
        }
        expect(broker.compareIds(published[3]!, published[3]!)).toBe(0);
      });

      it('delivers ephemeral events live without an id and never stores them', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const seen = recorder();
        await broker.subscribe(channel, seen.listener);
        const [first] = await publishMany(broker, channel, 1);
        expect(await broker.publish(channel, ephemeral('typing', { on: true }))).toEqual({});
        const [second] = await publishMany(broker, channel, 1);
        await seen.waitFor(3);
        expect(seen.events.map((event) => [event.type, event.id])).toEqual([
          ['n', first],
          ['typing', undefined],
          ['n', second],
        ]);
        expect(seen.events[1]!.json).toBe(JSON.stringify({ type: 'typing', payload: { on: true } }));
        // The ephemeral event took no place in the stream: history after the first is exactly the second.
        expect(await broker.history(channel, { after: first! })).toEqual({
          recovered: true,
          events: [seen.events[2]],
        });
        expect(
          ids(((await broker.history(channel, { last: 10 })) as { events: BrokerEvent[] }).events),
        ).toEqual([first, second]);
      });
    });

    describe('#subscribe', () => {
      it('delivers stored events in id order with channel, type and json intact', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const seen = recorder();
        await broker.subscribe(channel, seen.listener);
        const published = await Promise.all(
          Array.from({ length: 30 }, (_, i) => broker.publish(channel, stored('n', i))),
        );
        await seen.waitFor(30);
        const delivered = ids(seen.events);
        expect([...delivered].sort(broker.compareIds)).toEqual(delivered);
        expect(new Set(delivered)).toEqual(new Set(published.map((result) => result.id)));
        const first = seen.events.find((event) => event.id === published[0]!.id)!;
        expect(first).toEqual({
          channel,
          id: published[0]!.id,
          type: 'n',
          json: JSON.stringify({ type: 'n', payload: 0 }),
        });
      });

      it('delivers to every listener of a channel and to no other channel', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const other = uniqueChannel();
        const a = recorder();
        const b = recorder();
        const elsewhere = recorder();
        await broker.subscribe(channel, a.listener);
        await broker.subscribe(channel, b.listener);
        await broker.subscribe(other, elsewhere.listener);
        const published = await publishMany(broker, channel, 5);
        const [otherId] = await publishMany(broker, other, 1);
        expect(ids(await a.waitFor(5))).toEqual(published);
        expect(ids(await b.waitFor(5))).toEqual(published);
        expect(ids(await elsewhere.waitFor(1))).toEqual([otherId]);
      });

      it('stops delivery to a listener once it unsubscribes, and can subscribe the channel again', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const leaving = recorder();
        const staying = recorder();
        const unsubscribeLeaving = await broker.subscribe(channel, leaving.listener);
        const unsubscribeStaying = await broker.subscribe(channel, staying.listener);
        const [first] = await publishMany(broker, channel, 1);
        await leaving.waitFor(1);
        unsubscribeLeaving();
        unsubscribeLeaving();
        const [second] = await publishMany(broker, channel, 1);
        expect(ids(await staying.waitFor(2))).toEqual([first, second]);
        unsubscribeStaying();
        // The last listener left; a new one gets what is published after it subscribed, and only that.
        const later = recorder();
        await broker.subscribe(channel, later.listener);
        const [third] = await publishMany(broker, channel, 1);
        expect(ids(await later.waitFor(1))).toEqual([third]);
        expect(ids(leaving.events)).toEqual([first]);
        expect(ids(staying.events)).toEqual([first, second]);
      });

      it('is gap-free when subscribing before reading history while events keep coming', async () => {
        const broker = await make({ historySize: 1000 });
        const channel = uniqueChannel();
        const before = await publishMany(broker, channel, 5);
        const publishing = publishMany(broker, channel, 100);
        // What the server does on resume: subscribe (buffering), read history, then flush the buffer
        // dropping what history covered.
        const live = recorder();
        const unsubscribe = await broker.subscribe(channel, live.listener);
        const history = await broker.history(channel, { after: before[1]! });
        const all = [...before, ...(await publishing)];
        // Published after subscribe() resolved, so it must arrive live, after everything before it.
        const [marker] = await publishMany(broker, channel, 1, 'marker');
        await live.waitUntil((events) => events.some((event) => event.id === marker));
        unsubscribe();
        const liveIds = ids(live.events).slice(0, -1);
        expect(liveIds).toEqual(
          all.slice(all.indexOf(liveIds[0]!), all.indexOf(liveIds[0]!) + liveIds.length),
        );
        expect(liveIds.at(-1) ?? all.at(-1)).toBe(all.at(-1));
        expect(history.recovered).toBe(true);
        const resumed = history.recovered ? ids(history.events) : [];
        const lastResumed = resumed.at(-1) ?? before[1]!;
        for (const id of liveIds) if (broker.compareIds(id!, lastResumed) > 0) resumed.push(id);
        expect(resumed).toEqual(all.slice(2));
      });
    });

    describe('#position', () => {
      it('is the newest stored event, and resuming from it yields exactly what came after', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const published = await publishMany(broker, channel, 3);
        const position = await broker.position(channel);
        expect(position).toBe(published[2]);
        const later = await publishMany(broker, channel, 2);
        const after = await broker.history(channel, { after: position });
        expect(after.recovered && ids(after.events)).toEqual(later);
      });

      it('resumes an empty channel from its start: everything published after is returned', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const position = await broker.position(channel);
        expect(await broker.history(channel, { after: position })).toEqual({ recovered: true, events: [] });
        const later = await publishMany(broker, channel, 2);
        const after = await broker.history(channel, { after: position });
        expect(after.recovered && ids(after.events)).toEqual(later);
      });
    });

    describe('#history', () => {
      it('returns the stored events after an id, oldest first', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const published = await publishMany(broker, channel, 10);
        const after = await broker.history(channel, { after: published[3]! });
        expect(after.recovered && ids(after.events)).toEqual(published.slice(4));
        expect(after.recovered && after.events[0]).toEqual({
          channel,
          id: published[4],
          type: 'n',
          json: JSON.stringify({ type: 'n', payload: 4 }),
        });
        expect(await broker.history(channel, { after: published[9]! })).toEqual({
          recovered: true,
          events: [],
        });
      });

      it('returns the last n events, fewer when fewer are stored, none for an empty channel', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const published = await publishMany(broker, channel, 10);
        const last3 = await broker.history(channel, { last: 3 });
        expect(last3.recovered && ids(last3.events)).toEqual(published.slice(7));
        const last50 = await broker.history(channel, { last: 50 });
        expect(last50.recovered && ids(last50.events)).toEqual(published);
        expect(await broker.history(channel, { last: 0 })).toEqual({ recovered: true, events: [] });
        expect(await broker.history(uniqueChannel(), { last: 5 })).toEqual({ recovered: true, events: [] });
      });

      it('reports evicted when the history no longer reaches back to the id', async () => {
        const broker = await make({ historySize: 5 });
        const channel = uniqueChannel();
        const published = await publishMany(broker, channel, 12);
        expect(await broker.history(channel, { after: published[0]! })).toEqual({
          recovered: false,
          reason: 'evicted',
        });
        expect(await broker.history(channel, { after: published[5]! })).toEqual({
          recovered: false,
          reason: 'evicted',
        });
        // The last historySize events are kept: resuming right before them is whole.
        const kept = await broker.history(channel, { after: published[6]! });
        expect(kept.recovered && ids(kept.events)).toEqual(published.slice(7));
        const last = await broker.history(channel, { last: 100 });
        expect(last.recovered && ids(last.events)).toEqual(published.slice(7));
      });

      it('reports epoch-changed for an id of another epoch of the stream', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const [id] = await publishMany(broker, channel, 3);
        const parsed = parseEventId(id!)!;
        const foreign = formatEventId(parsed.epoch === 'zzzzzzzz' ? 'yyyyyyyy' : 'zzzzzzzz', parsed.position);
        expect(await broker.history(channel, { after: foreign })).toEqual({
          recovered: false,
          reason: 'epoch-changed',
        });
        expect(await broker.history(uniqueChannel(), { after: foreign })).toEqual({
          recovered: false,
          reason: 'epoch-changed',
        });
      });

      it('reports unknown-id for ids it never issued', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const [id] = await publishMany(broker, channel, 3);
        for (const garbage of ['', 'nonsense', 'abc:def', 'UPPER:1', `${id}x`, 'a:1:2']) {
          expect(await broker.history(channel, { after: garbage })).toEqual({
            recovered: false,
            reason: 'unknown-id',
          });
        }
        // Right epoch, a position from the future.
        const parsed = parseEventId(id!)!;
        const future = parsed.position.includes('-')
          ? `${parsed.major + 1e9}-${parsed.minor}`
          : `${parsed.major + 1e9}`;
        expect(await broker.history(channel, { after: formatEventId(parsed.epoch, future) })).toEqual({
          recovered: false,
          reason: 'unknown-id',
        });
      });
    });

    describe('#history age', () => {
      it('treats events older than historyMaxAgeMs as evicted', async () => {
        const broker = await make({ historyMaxAgeMs: 300 });
        const channel = uniqueChannel();
        const old = await publishMany(broker, channel, 2);
        await elapse(400);
        const [fresh] = await publishMany(broker, channel, 1);
        expect(await broker.history(channel, { after: old[0]! })).toEqual({
          recovered: false,
          reason: 'evicted',
        });
        const resumed = await broker.history(channel, { after: old[1]! });
        expect(resumed.recovered && ids(resumed.events)).toEqual([fresh]);
        const last = await broker.history(channel, { last: 10 });
        expect(last.recovered && ids(last.events)).toEqual([fresh]);
      });
    });

    describe('state release', () => {
      const MAX_AGE_MS = 300;
      /** Expiry runs on a sweep (memory) or Redis's own expiry cycle: allow a few rounds of either. */
      const RELEASE_WAIT_MS = MAX_AGE_MS + 10_000;
      const released = (broker: B, family: string) =>
        expect.poll(() => probe.retained(broker, family), { timeout: RELEASE_WAIT_MS, interval: 50 }).toBe(0);

      it('forgets every channel once it has no listeners and its history expired', async () => {
        const broker = await make({ historyMaxAgeMs: MAX_AGE_MS });
        const family = uniqueFamily();
        const CHANNELS = 40;
        for (let i = 0; i < CHANNELS; i++) {
          const channel = `${family}:c${i}`;
          const unsubscribe = await broker.subscribe(channel, () => {});
          await broker.position(channel);
          if (i % 2 === 0) {
            // Half are only looked at (a subscriber positioned on an empty channel), half store events.
            await broker.publish(channel, keyed(`k${i}`, i));
            await publishMany(broker, channel, 2);
            await broker.publish(channel, ephemeral('typing'));
          }
          unsubscribe();
        }
        expect(await probe.retained(broker, family)).toBeGreaterThan(0);
        await released(broker, family);
      }, 20_000);

      it('keeps a channel with listeners, which resume exactly after its history expired', async () => {
        const broker = await make({ historyMaxAgeMs: MAX_AGE_MS });
        const family = uniqueFamily();
        const channel = `${family}:kept`;
        const seen = recorder();
        const unsubscribe = await broker.subscribe(channel, seen.listener);
        await publishMany(broker, channel, 2);
        await elapse(MAX_AGE_MS * 3);
        expect(await probe.retained(broker, family)).toBeGreaterThan(0);
        const position = await broker.position(channel);
        expect(await broker.history(channel, { after: position })).toEqual({ recovered: true, events: [] });
        const later = await publishMany(broker, channel, 2);
        const after = await broker.history(channel, { after: position });
        expect(after.recovered && ids(after.events)).toEqual(later);
        expect(ids(await seen.waitFor(4)).slice(2)).toEqual(later);
        unsubscribe();
        await released(broker, family);
      }, 20_000);

      it('judges ids handed out before a channel was forgotten: never replayed wrongly, never reused', async () => {
        const broker = await make({ historyMaxAgeMs: MAX_AGE_MS });
        const family = uniqueFamily();
        const channel = `${family}:a`;
        const unsubscribe = await broker.subscribe(channel, () => {});
        const empty = await broker.position(channel);
        const old = await publishMany(broker, channel, 3);
        unsubscribe();
        await released(broker, family);

        const fresh = await publishMany(broker, channel, 2);
        for (const id of fresh) expect([empty, ...old]).not.toContain(id);
        // Events after these were forgotten: the broker must say so.
        for (const id of [empty, old[0]!, old[1]!]) {
          const result = await broker.history(channel, { after: id });
          expect(result.recovered).toBe(false);
          expect(['evicted', 'epoch-changed']).toContain(!result.recovered && result.reason);
        }
        // Nothing after the newest old event was lost: exactly the new events, or an explicit gap.
        const newest = await broker.history(channel, { after: old[2]! });
        if (newest.recovered) expect(ids(newest.events)).toEqual(fresh);
        else expect(['evicted', 'epoch-changed']).toContain(newest.reason);
        // Positions handed out after the forgetting resume exactly.
        const position = await broker.position(channel);
        const more = await publishMany(broker, channel, 1);
        const after = await broker.history(channel, { after: position });
        expect(after.recovered && ids(after.events)).toEqual(more);
      }, 20_000);

      it('resumes an empty channel from its position after its last listener left', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const unsubscribe = await broker.subscribe(channel, () => {});
        const position = await broker.position(channel);
        unsubscribe();
        const later = await publishMany(broker, channel, 3);
        const after = await broker.history(channel, { after: position });
        expect(after.recovered && ids(after.events)).toEqual(later);
      });
    });

    describe('#publish with an idempotency key', () => {
      it('answers a retry with the first id, and stores and delivers nothing more', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const seen = recorder();
        await broker.subscribe(channel, seen.listener);
        const first = await broker.publish(channel, keyed('k1', { text: 'a' }));
        expect(first).toEqual({ id: expect.any(String) });
        expect(await broker.publish(channel, keyed('k1', { text: 'a' }))).toEqual({
          id: first.id,
          duplicate: true,
        });
        const [next] = await publishMany(broker, channel, 1);
        // Delivery is in order: once `next` arrived, a delivered retry would have arrived before it.
        expect(ids(await seen.waitUntil((events) => events.some((event) => event.id === next)))).toEqual([
          first.id,
          next,
        ]);
        const history = await broker.history(channel, { last: 10 });
        expect(history.recovered && ids(history.events)).toEqual([first.id, next]);
      });

      it('refuses the same key for a different event with IDEMPOTENCY_CONFLICT and stores nothing', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const first = await broker.publish(channel, keyed('k1', { text: 'a' }));
        const error = await rejectionOf(broker.publish(channel, keyed('k1', { text: 'b' })));
        expect(isSwitchboardError(error) && error.code).toBe(ErrorCode.IDEMPOTENCY_CONFLICT);
        const history = await broker.history(channel, { last: 10 });
        expect(history.recovered && ids(history.events)).toEqual([first.id]);
        // The key still belongs to the first event.
        expect(await broker.publish(channel, keyed('k1', { text: 'a' }))).toEqual({
          id: first.id,
          duplicate: true,
        });
      });

      it('stores concurrent publishes with one key once', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const results = await Promise.all(
          Array.from({ length: 20 }, () => broker.publish(channel, keyed('same', { text: 'a' }))),
        );
        expect(new Set(results.map((result) => result.id)).size).toBe(1);
        expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
        const history = await broker.history(channel, { last: 10 });
        expect(history.recovered && ids(history.events)).toEqual([results[0]!.id]);
      });

      it('remembers a key while its event is in history, whatever was published after it', async () => {
        const broker = await make({ historySize: 5 });
        const channel = uniqueChannel();
        const first = await broker.publish(channel, keyed('k1', 'a'));
        await publishMany(broker, channel, 4);
        expect(await broker.publish(channel, keyed('k1', 'a'))).toEqual({ id: first.id, duplicate: true });
      });

      it('treats other keys as other requests and ignores keys of ephemeral events', async () => {
        const broker = await make();
        const channel = uniqueChannel();
        const seen = recorder();
        await broker.subscribe(channel, seen.listener);
        const a = await broker.publish(channel, keyed('k1', 'same'));
        const b = await broker.publish(channel, keyed('k2', 'same'));
        expect(a.id).not.toBe(b.id);
        // Another channel: keys are scoped to a channel too.
        expect(await broker.publish(uniqueChannel(), keyed('k1', 'other'))).toEqual({
          id: expect.any(String),
        });
        const live = { ...ephemeral('typing'), idempotency: { key: 'k3', fingerprint: 'f' } };
        expect(await broker.publish(channel, live)).toEqual({});
        expect(await broker.publish(channel, live)).toEqual({});
        await seen.waitFor(4);
        expect(seen.events.map((event) => event.type)).toEqual(['n', 'n', 'typing', 'typing']);
      });

      it('matches a reference model over random sequences of keyed and plain publishes', async () => {
        const broker = await make();
        const op = fc.record({
          key: fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3'), { nil: undefined }),
          payload: fc.constantFrom('a', 'b', 'c'),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
            const channel = uniqueChannel();
            const model = new Map<string, { payload: string; id: string }>();
            const storedIds: string[] = [];
            for (const { key, payload } of ops) {
              const event = key === undefined ? stored('n', payload) : keyed(key, payload);
              const earlier = key === undefined ? undefined : model.get(key);
              if (earlier && earlier.payload !== payload) {
                const error = await rejectionOf(broker.publish(channel, event));
                expect(isSwitchboardError(error) && error.code).toBe(ErrorCode.IDEMPOTENCY_CONFLICT);
              } else if (earlier) {
                expect(await broker.publish(channel, event)).toEqual({ id: earlier.id, duplicate: true });
              } else {
                const { id } = await broker.publish(channel, event);
                storedIds.push(id!);
                if (key !== undefined) model.set(key, { payload, id: id! });
              }
            }
            const history = await broker.history(channel, { last: 100 });
            expect(history.recovered && ids(history.events)).toEqual(storedIds);
          }),
          { numRuns: 30, seed: 1112 },
        );
      });
    });

    describe('#presence', () => {
      it('aggregates connections per user and reports every change of a member, its count included', async () => {
        const { presence } = await make();
        const channel = uniqueChannel();
        expect(await presence.list(channel)).toEqual([]);
        expect(await presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann' })).toEqual({
          action: 'join',
          member: { userId: 'u1', name: 'Ann', connections: 1 },
        });
        // A second tab of the same user is one member with two connections: others see the count change.
        expect(await presence.join(channel, { connectionId: 'c2', userId: 'u1', name: 'Ann' })).toEqual({
          action: 'update',
          member: { userId: 'u1', name: 'Ann', connections: 2 },
        });
        expect(
          await presence.join(channel, {
            connectionId: 'c3',
            userId: 'u2',
            name: 'Bob',
            meta: { status: 'busy' },
          }),
        ).toEqual({
          action: 'join',
          member: { userId: 'u2', name: 'Bob', connections: 1, meta: { status: 'busy' } },
        });
        expect(byUserId(await presence.list(channel))).toEqual([
          { userId: 'u1', name: 'Ann', connections: 2 },
          { userId: 'u2', name: 'Bob', connections: 1, meta: { status: 'busy' } },
        ]);
        expect(await presence.list(uniqueChannel())).toEqual([]);
      });

      it('updates show the new meta, also when it is set on a user’s older connection', async () => {
        const { presence } = await make();
        const channel = uniqueChannel();
        await presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann' });
        await presence.join(channel, { connectionId: 'c2', userId: 'u1', name: 'Ann' });
        expect(await presence.update(channel, 'c1', { typing: true })).toEqual({
          action: 'update',
          member: { userId: 'u1', name: 'Ann', connections: 2, meta: { typing: true } },
        });
        expect(await presence.list(channel)).toEqual([
          { userId: 'u1', name: 'Ann', connections: 2, meta: { typing: true } },
        ]);
        expect(await presence.update(channel, 'nobody', { typing: true })).toBeNull();
        expect(await presence.update(uniqueChannel(), 'c1', { typing: true })).toBeNull();
      });

      it('reports a leave when a user’s last connection leaves, an update with the count before', async () => {
        const { presence } = await make();
        const channel = uniqueChannel();
        await presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann', meta: { n: 1 } });
        await presence.join(channel, { connectionId: 'c2', userId: 'u1', name: 'Ann', meta: { n: 1 } });
        await presence.join(channel, { connectionId: 'c3', userId: 'u2', name: 'Bob' });
        expect(await presence.leave(channel, 'c2')).toEqual({
          action: 'update',
          member: { userId: 'u1', name: 'Ann', connections: 1, meta: { n: 1 } },
        });
        expect(byUserId(await presence.list(channel))).toEqual([
          { userId: 'u1', name: 'Ann', connections: 1, meta: { n: 1 } },
          { userId: 'u2', name: 'Bob', connections: 1 },
        ]);
        expect(await presence.leave(channel, 'c1')).toEqual({
          action: 'leave',
          member: { userId: 'u1', name: 'Ann', connections: 0, meta: { n: 1 } },
        });
        expect(await presence.leave(channel, 'c1')).toBeNull();
        expect(await presence.leave(channel, 'unknown')).toBeNull();
        expect(await presence.list(channel)).toEqual([{ userId: 'u2', name: 'Bob', connections: 1 }]);
        await presence.refresh(['c3', 'unknown']);
        expect(await presence.list(channel)).toEqual([{ userId: 'u2', name: 'Bob', connections: 1 }]);
      });
    });

    describe('#close', () => {
      it('is ready while open, closed after close, and close is idempotent', async () => {
        const broker = await make();
        expect(broker.status).toBe('ready');
        await broker.close();
        await broker.close();
        expect(broker.status).toBe('closed');
      });
    });
  });
}
