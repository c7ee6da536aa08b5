import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { connectTrpc, startTestServer, until } from './__tests__/testServer.ts';

const track = useCleanup();
const server = () => startTestServer().then((s) => track(s, (f) => f.close()));

describe("the app's own subscriptions", () => {
  it('sends tracked() items as { id, data } and resumes from lastEventId after a dropped socket', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const received: { id: string; data: number }[] = [];
    const sub = client.trpc.counter.subscribe(
      { intervalMs: 5 },
      { onData: (item) => received.push(item), onError: () => {} },
    );
    track(sub, (s) => s.unsubscribe());
    await until(() => received.length >= 3, 5000, 'three items');
    expect(received[0]).toEqual({ id: '1', data: 1 });
    for (const connection of fixture.server.registry.all()) connection.socket.terminate();
    const before = received.length;
    await until(() => received.length >= before + 3, 5000, 'items after the reconnect');
    sub.unsubscribe();
    // No restart from 1 and nothing skipped: @trpc/client resent the last id as lastEventId.
    expect(received.map((item) => item.data)).toEqual(received.map((_, i) => i + 1));
  });

  it('reports an error thrown inside a subscription with its own code, not INTERNAL_SERVER_ERROR', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const error = await new Promise<unknown>((resolve) => {
      client.trpc.refusing.subscribe(undefined, { onError: resolve });
    });
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).data).toMatchObject({
      code: 'BAD_REQUEST',
      switchboardCode: 'BAD_REQUEST',
    });
    expect((error as Error).message).toBe('version 9 is beyond the current version 1');
  });

  it('reports invalid input with a readable message and the BAD_REQUEST code, not raw zod JSON', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const error = await client.trpc.channel.publish
      .mutate({ channel: 'chat:room', type: 'message', payload: { text: 'x' }, correlationId: '' })
      .catch((e: unknown) => e);
    expect((error as TRPCClientError<never>).data).toMatchObject({
      code: 'BAD_REQUEST',
      switchboardCode: 'BAD_REQUEST',
    });
    expect((error as Error).message).toMatch(/^invalid input at correlationId: /);
    expect((error as Error).message).not.toContain('[');
  });

  it('gives errors that are not ours the domain code of their tRPC code, never INTERNAL for a bad request', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const tooLong = await client.trpc.auth.refresh
      .mutate({ token: 'x'.repeat(60_000) })
      .catch((e: unknown) => e);
    expect((tooLong as TRPCClientError<never>).data).toMatchObject({
      code: 'BAD_REQUEST',
      switchboardCode: 'BAD_REQUEST',
    });
    expect((tooLong as Error).message).toMatch(/^invalid input at token: /);
  });
});
