import { transformer } from '@switchboard/protocol';
import { httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { freshCredentialEventSource, type SseHooks } from './freshCredentialEventSource.ts';
import type { EventSourceConstructor } from './options.ts';

export interface HttpTransportOptions {
  /** The server's HTTP endpoint (`httpPath`), e.g. `https://example.com/trpc`. */
  httpUrl: string;
  EventSource: EventSourceConstructor;
  fetch: typeof globalThis.fetch | undefined;
  /** The token for a call's `Authorization` header, asked before every request (none: cookies only). */
  getToken: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;
  sse: SseHooks;
}

/**
 * The official HTTP links, unchanged, with superjson: `httpBatchLink` for queries and mutations (a fresh
 * `getToken()` as `Authorization: Bearer` on every request) and `httpSubscriptionLink` for subscriptions,
 * whose EventSource asks for a fresh ticket on every connection (see `freshCredentialEventSource`).
 * `inOrder` in front keeps the client's call order, which HTTP alone does not (see there).
 */
export function httpTransportLink(options: HttpTransportOptions): TRPCLink<AnyTRPCRouter> {
  const EventSource = freshCredentialEventSource(options.EventSource, options.sse);
  return inOrder(
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: options.httpUrl, transformer, EventSource: EventSource as never }),
      false: httpBatchLink({
        url: options.httpUrl,
        transformer,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        headers: async () => {
          const token = await options.getToken?.();
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      }),
    }),
  );
}

/**
 * Keeps calls in the order the app made them on HTTP too. Over the WebSocket the server handles one
 * connection's requests to a channel in arrival order; over HTTP every request stands alone, tRPC's server
 * runs the calls of a batch concurrently, and a stream attaches to its channel some time after its GET. So
 * an operation leaves only after every mutation before it settled and every subscription before it is
 * attached: the first item of `channel.subscribe` (`$live`, sent once it is attached and caught up), or for
 * other subscriptions the stream's start; a failure releases too. Queries hold nothing back. A call held
 * here still counts its time (`callTimeoutLink` sits in front).
 */
export function inOrder(inner: TRPCLink<AnyTRPCRouter>): TRPCLink<AnyTRPCRouter> {
  return (runtime) => {
    const next = inner(runtime);
    let tail: Promise<void> = Promise.resolve();
    return ({ op, next: downstream }) =>
      observable((observer) => {
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        const before = tail;
        if (op.type === 'query') release();
        else tail = before.then(() => released);
        const attachedOn = op.type === 'subscription' && op.path === 'channel.subscribe' ? 'data' : 'started';
        let subscription: { unsubscribe(): void } | undefined;
        let ended = false;
        void before.then(() => {
          if (ended) return;
          subscription = next({ op, next: downstream }).subscribe({
            next(envelope) {
              const result = envelope.result as { type?: string; state?: string; error?: unknown };
              const type = result.type ?? 'data';
              if (type === attachedOn || (type === 'state' && result.state === 'connecting' && result.error))
                release();
              observer.next(envelope);
            },
            error(error) {
              release();
              observer.error(error);
            },
            complete() {
              release();
              observer.complete();
            },
          });
        });
        return () => {
          ended = true;
          release();
          subscription?.unsubscribe();
        };
      });
  };
}
