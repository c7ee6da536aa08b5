/**
 * A real in-memory broker whose `subscribe` fails while `failures` is above 0 (each failure counts it
 * down), as a broker that lost its connection would: the server then refuses channel subscriptions with
 * BROKER_UNAVAILABLE. Everything else (publish, history, presence) works. Set `failures` at any time;
 * wrap more methods the same way when a test needs them to fail.
 */
import { type Broker, createMemoryBroker } from '@switchboard/server';

export interface FlakyBroker {
  broker: Broker;
  /** Calls of `subscribe` still to fail. */
  failures: number;
  /** Calls of `subscribe` so far, failed ones included. */
  readonly subscribeCalls: number;
}

export function flakyBroker(failures = 0): FlakyBroker {
  const inner = createMemoryBroker();
  let subscribeCalls = 0;
  const flaky: FlakyBroker = {
    failures,
    get subscribeCalls() {
      return subscribeCalls;
    },
    broker: new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== 'subscribe') return Reflect.get(target, property, receiver);
        const subscribe: Broker['subscribe'] = (channel, listener) => {
          subscribeCalls++;
          if (flaky.failures <= 0) return target.subscribe(channel, listener);
          flaky.failures--;
          return Promise.reject(new Error('broker unreachable'));
        };
        return subscribe;
      },
    }),
  };
  return flaky;
}
