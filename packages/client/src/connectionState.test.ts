import { describe, expect, it } from 'vitest';
import {
  type ConnectionEvent,
  type ConnectionState,
  createConnectionStore,
  initialConnectionState,
  transition,
} from './connectionState.ts';

function run(events: ConnectionEvent[], from: ConnectionState = initialConnectionState): ConnectionState[] {
  const states: ConnectionState[] = [];
  let state = from;
  for (const event of events) {
    state = transition(state, event);
    states.push(state);
  }
  return states;
}

const dropped = { code: 1006, reason: '' };

describe('transition', () => {
  it('connects: idle → connecting → open', () => {
    expect(run([{ type: 'attempt' }, { type: 'open' }])).toEqual([
      { status: 'connecting', transport: 'websocket', attempt: 0 },
      { status: 'open', transport: 'websocket', attempt: 0 },
    ]);
  });

  it('counts failed first attempts in `connecting`, with the next retry time while waiting', () => {
    expect(
      run([
        { type: 'attempt' },
        { type: 'closed', close: dropped },
        { type: 'retry-scheduled', nextRetryAt: 1000 },
        { type: 'attempt' },
        { type: 'closed', close: dropped },
      ]),
    ).toEqual([
      { status: 'connecting', transport: 'websocket', attempt: 0 },
      { status: 'connecting', transport: 'websocket', attempt: 1, lastClose: dropped },
      { status: 'connecting', transport: 'websocket', attempt: 1, lastClose: dropped, nextRetryAt: 1000 },
      { status: 'connecting', transport: 'websocket', attempt: 1, lastClose: dropped },
      { status: 'connecting', transport: 'websocket', attempt: 2, lastClose: dropped },
    ]);
  });

  it('reconnects after losing an open connection: reconnecting from retry 1, open again resets', () => {
    const open: ConnectionState = { status: 'open', transport: 'websocket', attempt: 0 };
    const goingAway = { code: 1001, reason: 'server shutting down' };
    expect(
      run(
        [
          { type: 'closed', close: goingAway },
          { type: 'retry-scheduled', nextRetryAt: 50 },
          { type: 'attempt' },
          { type: 'closed', close: dropped },
          { type: 'retry-scheduled', nextRetryAt: 400 },
          { type: 'attempt' },
          { type: 'open' },
        ],
        open,
      ),
    ).toEqual([
      { status: 'reconnecting', transport: 'websocket', attempt: 1, lastClose: goingAway },
      { status: 'reconnecting', transport: 'websocket', attempt: 1, lastClose: goingAway, nextRetryAt: 50 },
      { status: 'reconnecting', transport: 'websocket', attempt: 1, lastClose: goingAway },
      { status: 'reconnecting', transport: 'websocket', attempt: 2, lastClose: dropped },
      { status: 'reconnecting', transport: 'websocket', attempt: 2, lastClose: dropped, nextRetryAt: 400 },
      { status: 'reconnecting', transport: 'websocket', attempt: 2, lastClose: dropped },
      { status: 'open', transport: 'websocket', attempt: 0, lastClose: dropped },
    ]);
  });

  it('treats a retry scheduled while open (the server asked to reconnect) as reconnecting', () => {
    expect(
      transition(
        { status: 'open', transport: 'websocket', attempt: 0 },
        { type: 'retry-scheduled', nextRetryAt: 9 },
      ),
    ).toEqual({
      status: 'reconnecting',
      transport: 'websocket',
      attempt: 1,
      nextRetryAt: 9,
    });
  });

  it('stops with the error, its auth error and the close that caused it, and ignores everything but restart after', () => {
    const refused = { code: 4500, reason: 'unauthorized' };
    const error = { code: 'UNAUTHORIZED', message: 'token revoked' } as const;
    const closed = transition(
      { status: 'reconnecting', attempt: 3, transport: 'http' },
      { type: 'stop', error, close: refused },
    );
    expect(closed).toEqual({
      status: 'closed',
      attempt: 3,
      transport: 'http',
      authError: 'unauthorized',
      error,
      lastClose: refused,
    });
    for (const event of [
      { type: 'attempt' },
      { type: 'open' },
      { type: 'closed' },
      { type: 'stop' },
    ] as const) {
      expect(transition(closed, event)).toBe(closed);
    }
    expect(transition(closed, { type: 'restart' })).toEqual({
      status: 'idle',
      attempt: 0,
      transport: 'http',
      lastClose: refused,
    });
  });

  it('returns the same object when nothing changes, and ignores restart unless closed', () => {
    const open: ConnectionState = { status: 'open', transport: 'websocket', attempt: 0 };
    expect(transition(open, { type: 'open' })).toBe(open);
    expect(transition(open, { type: 'restart' })).toBe(open);
  });
});

describe('createConnectionStore', () => {
  it('notifies { next, previous } only on a change and stops after unsubscribe', () => {
    const store = createConnectionStore();
    const seen: [string, string][] = [];
    const unsubscribe = store.subscribe((next, previous) => seen.push([previous.status, next.status]));
    expect(store.dispatch({ type: 'attempt' })).toBe(true);
    expect(store.dispatch({ type: 'attempt' })).toBe(false);
    store.dispatch({ type: 'open' });
    unsubscribe();
    store.dispatch({ type: 'stop' });
    expect(seen).toEqual([
      ['idle', 'connecting'],
      ['connecting', 'open'],
    ]);
    expect(store.getSnapshot()).toEqual({ status: 'closed', transport: 'websocket', attempt: 0 });
  });
});
