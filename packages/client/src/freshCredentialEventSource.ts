import { createBackoff } from './backoff.ts';
import type { EventSourceConstructor, EventSourceLike, ResolvedBackoffOptions } from './options.ts';

/** What the HTTP transport tells an EventSource, and learns from it. */
export interface SseHooks {
  /**
   * The URL of the next connection: `url` with fresh credentials (a single-use ticket). Called before every
   * connection, the first and each reconnect; a rejection (network down) is retried after the backoff.
   */
  urlFor(url: string): Promise<string>;
  /** A stream opened (the server answered 200 with `text/event-stream`). */
  opened(): void;
  /**
   * A stream failed. `refused` when the server answered with something else than a stream (an HTTP
   * status: `status` in Node, where the `eventsource` package reports it; undefined in browsers). Resolves
   * `stop` when the client stopped for good (nothing is retried), else `retry`.
   */
  failed(failure: { refused: boolean; status: number | undefined }): Promise<'retry' | 'stop'>;
  backoff: ResolvedBackoffOptions;
}

type Listener = (event: never) => void;

/** Listened to on every inner EventSource, whoever else listens: they carry the resume position. */
const POSITION_EVENTS = ['message', 'restore-id'];

/**
 * An EventSource class for tRPC's `httpSubscriptionLink` that never reuses a URL: every (re)connection asks
 * `hooks.urlFor` for fresh credentials.
 *
 * An EventSource reconnects by itself with the URL it was made with, and that URL carries a single-use
 * ticket: the second use is refused with 401, which would end the subscription (tRPC gives up on a refused
 * stream). So this class wraps the real one (`Inner`: the browser's, or the `eventsource` package's) and
 * takes the reconnect over: on any error it closes the inner one before it retries, tells tRPC it is
 * `CONNECTING` (tRPC reports the subscription as connecting, as the real one would), waits out the
 * backoff, and opens a new inner one with fresh credentials and the last event id as `?lastEventId=` (what
 * the EventSource would have sent as `Last-Event-ID`; the server reads either). tRPC sees one EventSource
 * for the life of the stream.
 */
export function freshCredentialEventSource(Inner: EventSourceConstructor, hooks: SseHooks) {
  return class FreshCredentialEventSource {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSED = 2;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSED = 2;
    readyState: number = this.CONNECTING;
    readonly url: string;
    readonly withCredentials: boolean;
    readonly #init: { withCredentials?: boolean } | undefined;
    readonly #listeners = new Map<string, Set<Listener>>();
    readonly #backoff = createBackoff(hooks.backoff);
    #inner: EventSourceLike | undefined;
    #lastEventId: string | undefined;
    #retryTimer: ReturnType<typeof setTimeout> | undefined;

    constructor(url: string | URL, init?: { withCredentials?: boolean }) {
      this.url = String(url);
      this.#init = init;
      this.withCredentials = init?.withCredentials ?? false;
      // After the constructor: tRPC adds its listeners right after `new`.
      void this.#connect();
    }

    addEventListener(type: string, listener: Listener): void {
      let listeners = this.#listeners.get(type);
      if (!listeners) {
        listeners = new Set();
        this.#listeners.set(type, listeners);
        if (this.#inner) this.#forward(this.#inner, type);
      }
      listeners.add(listener);
    }

    removeEventListener(type: string, listener: Listener): void {
      this.#listeners.get(type)?.delete(listener);
    }

    close(): void {
      this.readyState = this.CLOSED;
      clearTimeout(this.#retryTimer);
      this.#inner?.close();
      this.#inner = undefined;
    }

    #dispatch(type: string, event: unknown): void {
      for (const listener of [...(this.#listeners.get(type) ?? [])])
        (listener as (e: unknown) => void)(event);
    }

    #forward(inner: EventSourceLike, type: string): void {
      if (type === 'error' || type === 'open' || POSITION_EVENTS.includes(type)) return;
      inner.addEventListener(type, (event: never) => {
        if (this.#inner === inner) this.#dispatch(type, event);
      });
    }

    async #connect(): Promise<void> {
      if (this.readyState === this.CLOSED) return;
      let url: string;
      try {
        url = await hooks.urlFor(withPosition(this.url, this.#lastEventId));
      } catch {
        return this.#retry({ refused: false, status: undefined });
      }
      if (this.readyState === this.CLOSED) return;
      const inner = new Inner(url, this.#init);
      this.#inner = inner;
      for (const type of this.#listeners.keys()) this.#forward(inner, type);
      for (const type of POSITION_EVENTS) {
        inner.addEventListener(type, (event: { lastEventId?: string }) => {
          if (this.#inner !== inner) return;
          // An untracked item clears the id (`id:` empty) and `restore-id` puts it back (tRPC's SSE format).
          this.#lastEventId = event.lastEventId || undefined;
          if (type === 'message') this.#dispatch(type, event);
        });
      }
      inner.addEventListener('open', (event: never) => {
        if (this.#inner !== inner) return;
        this.readyState = this.OPEN;
        this.#backoff.opened(Date.now());
        hooks.opened();
        this.#dispatch('open', event);
      });
      inner.addEventListener('error', (event: { code?: number }) => {
        if (this.#inner !== inner) return;
        // CLOSED: the server answered, but not with a stream (a status, or the wrong content type); the
        // inner one gives up. CONNECTING: the stream broke, and it would reconnect with the spent URL.
        const refused = inner.readyState === inner.CLOSED;
        inner.close();
        this.#inner = undefined;
        this.readyState = this.CONNECTING;
        this.#dispatch('error', event);
        void this.#retry({ refused, status: typeof event.code === 'number' ? event.code : undefined });
      });
    }

    async #retry(failure: { refused: boolean; status: number | undefined }): Promise<void> {
      this.#backoff.closed(Date.now());
      const verdict = await hooks.failed(failure);
      if (verdict === 'stop' || this.readyState === this.CLOSED) return;
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => void this.#connect(), this.#backoff.next());
    }
  };
}

/** `url` with the resume position as `?lastEventId=` (tRPC's server reads it after `Last-Event-ID`). */
function withPosition(url: string, lastEventId: string | undefined): string {
  if (lastEventId === undefined) return url;
  const parsed = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  parsed.searchParams.set('lastEventId', lastEventId);
  return parsed.toString();
}
