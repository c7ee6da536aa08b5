/**
 * What the server accepts, it can send back: every client-supplied value that is stored and later sent
 * (event payloads, presence metadata, correlation ids) is either refused with BAD_REQUEST or accepted and
 * echoed intact, to its author and to everyone else. Searched as a property, over values from the official
 * client (superjson: Dates, Maps, BigInts, undefined) and over raw JSON with the keys superjson refuses.
 */
import { defineChannel, type Envelope, type PresenceMember, transformer } from '@switchboard/protocol';
import { TRPCClientError } from '@trpc/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  connectTrpc,
  startTestServer,
  type TestServer,
  testChannels,
  until,
} from './__tests__/testServer.ts';

/** A family whose payloads are anything the schema lets through, so the wire encoding is what is tested. */
const free = defineChannel({
  family: 'free',
  presence: true,
  events: { value: { schema: z.unknown() } },
});

const hostileKey = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype'),
);
const superjsonValue = fc.anything({
  key: hostileKey,
  maxDepth: 3,
  withDate: true,
  withMap: true,
  withSet: true,
  withBigInt: true,
  withNullPrototype: true,
  withBoxedValues: false,
  withTypedArray: false,
});
const rawJsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

let fixture: TestServer;
beforeAll(async () => {
  fixture = await startTestServer({ channels: [...testChannels, free] });
});
afterAll(() => fixture?.close());

function encodable(value: unknown): boolean {
  try {
    transformer.serialize({ payload: value, meta: { value } });
    return true;
  } catch {
    return false;
  }
}

const errorCode = (error: unknown) => (error instanceof TRPCClientError ? error.data?.code : String(error));

describe('round trip of stored client values', () => {
  it('event payloads and presence metadata from the official client: refused, or echoed intact', async () => {
    const author = connectTrpc(fixture.wsUrl, await fixture.sign('alice'));
    const reader = connectTrpc(fixture.wsUrl, await fixture.sign('bob'));
    const channel = 'free:round-trip';
    const events: Envelope[] = [];
    const members: PresenceMember[][] = [];
    await new Promise<void>((resolve, reject) => {
      reader.trpc.channel.subscribe.subscribe(
        { channel },
        { onStarted: () => resolve(), onError: reject, onData: (item) => events.push(item.data) },
      );
    });
    await new Promise<void>((resolve, reject) => {
      author.trpc.channel.subscribe.subscribe({ channel }, { onStarted: () => resolve(), onError: reject });
    });
    try {
      await fc.assert(
        fc.asyncProperty(superjsonValue, async (value) => {
          // What the client's own encoding refuses never reaches the server.
          fc.pre(encodable(value));
          const published = await author.trpc.channel.publish
            .mutate({ channel, type: 'value', payload: value })
            .then(
              (output) => output,
              (error: unknown) => ({ refused: errorCode(error) }),
            );
          if ('refused' in published) expect(published.refused).toBe('BAD_REQUEST');
          else {
            await until(() => events.some((e) => e.id === published.id), 5000, 'the event');
            expect(events.find((e) => e.id === published.id)?.payload).toEqual(value);
          }
          const meta = { value };
          const set = await author.trpc.channel.setPresence.mutate({ channel, meta }).then(
            () => 'ok',
            (error: unknown) => errorCode(error),
          );
          const listed = await reader.trpc.channel.presence.query({ channel }).then(
            (r) => r.members,
            (error: unknown) => errorCode(error),
          );
          // Whatever was stored, everyone can still read the room.
          expect(Array.isArray(listed)).toBe(true);
          if (set === 'ok') {
            expect((listed as PresenceMember[]).find((m) => m.userId === 'alice')?.meta).toEqual(meta);
          } else expect(set).toBe('BAD_REQUEST');
          members.push(listed as PresenceMember[]);
        }),
        { seed: 1102, numRuns: 150 },
      );
    } finally {
      author.close();
      reader.close();
    }
  }, 60_000);

  it('raw JSON with keys the wire encoding refuses: refused, never a later INTERNAL_SERVER_ERROR', async () => {
    const socket = await new Promise<WebSocket>((resolve, reject) => {
      fixture.sign('mallory').then((token) => {
        const s = new WebSocket(`${fixture.wsUrl}?token=${token}`);
        s.once('open', () => resolve(s));
        s.once('error', reject);
      }, reject);
    });
    const reader = connectTrpc(fixture.wsUrl, await fixture.sign('bob'));
    const replies = new Map<number, { result?: unknown; error?: { json: { data: { code: string } } } }>();
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString());
      if (typeof reply.id === 'number' && (reply.error || reply.result?.type !== 'started')) {
        replies.set(reply.id, reply);
      }
    });
    let id = 0;
    const call = async (method: string, path: string, input: string) => {
      const requestId = ++id;
      socket.send(
        `{"id":${requestId},"method":"${method}","params":{"path":"${path}","input":{"json":${input}}}}`,
      );
      await until(() => replies.has(requestId), 5000, `reply ${requestId}`);
      const reply = replies.get(requestId)!;
      return reply.error ? reply.error.json.data.code : 'ok';
    };
    const channel = 'free:raw';
    socket.send(
      JSON.stringify({
        id: 0,
        method: 'subscription',
        params: { path: 'channel.subscribe', input: { json: { channel } } },
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(rawJsonValue, async (value) => {
          const json = JSON.stringify(value);
          const published = await call(
            'mutation',
            'channel.publish',
            `{"channel":"${channel}","type":"value","payload":${json}}`,
          );
          expect(['ok', 'BAD_REQUEST']).toContain(published);
          const set = await call(
            'mutation',
            'channel.setPresence',
            `{"channel":"${channel}","meta":{"v":${json}}}`,
          );
          expect(['ok', 'BAD_REQUEST']).toContain(set);
          const history = await reader.trpc.channel.presence.query({ channel }).then(
            () => 'ok',
            (error: unknown) => errorCode(error),
          );
          expect(history).toBe('ok');
        }),
        { seed: 1103, numRuns: 150 },
      );
    } finally {
      socket.close();
      reader.close();
    }
  }, 60_000);
});
