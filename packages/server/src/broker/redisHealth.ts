import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { ReplyError } from 'ioredis';
import type { Logger } from 'pino';
import type { BrokerStatus } from './broker.ts';

/**
 * The Redis broker's status as one small state machine: `connecting` until Redis first answers, then
 * `ready` ⇄ `unavailable`, and `closed` at the end. Inputs are the connections' own states and the outcome
 * of commands, because a stalled Redis (SIGSTOP, a long script) keeps its TCP connections open and only
 * shows up as commands timing out. Each change is logged once, however many errors caused it.
 */
export interface Health {
  readonly status: BrokerStatus;
  /** Re-reads the connections' states (call on their events). */
  connectionsChanged(error?: unknown): void;
  commandSucceeded(): void;
  /** Records a failed command; only failures that say Redis is unreachable or stalled change the status. */
  commandFailed(error: unknown): void;
  onChange(listener: (status: BrokerStatus) => void): () => void;
  /** Resolves when the status is `ready`; rejects with BROKER_UNAVAILABLE after `timeoutMs` or on close. */
  whenReady(timeoutMs: number): Promise<void>;
  close(): void;
}

/** Reply errors that mean "Redis cannot serve now", not "the command was wrong". */
const UNAVAILABLE_REPLIES = /^(SBDEADLINE|CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|BUSY)/;

export function isUnavailableError(error: unknown): boolean {
  if (error instanceof ReplyError) return UNAVAILABLE_REPLIES.test((error as Error).message);
  return true;
}

export function createHealth(connectionsReady: () => boolean, logger: Logger): Health {
  let status: BrokerStatus = 'connecting';
  let stalled = false;
  let lastError: unknown;
  const listeners = new Set<(status: BrokerStatus) => void>();

  function transition() {
    if (status === 'closed') return;
    let next: BrokerStatus;
    if (connectionsReady() && !stalled) next = 'ready';
    else if (status === 'connecting' && lastError === undefined) next = 'connecting';
    else next = 'unavailable';
    if (next === status) return;
    const previous = status;
    status = next;
    if (next === 'unavailable') logger.warn({ err: lastError, previous }, 'redis broker unavailable');
    else if (next === 'ready')
      logger.info({ previous }, previous === 'connecting' ? 'redis broker ready' : 'redis broker recovered');
    for (const listener of listeners) listener(next);
  }

  function onChange(listener: (status: BrokerStatus) => void) {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  return {
    get status() {
      return status;
    },
    connectionsChanged(error) {
      if (error !== undefined) lastError = error;
      transition();
    },
    commandSucceeded() {
      if (!stalled) return;
      stalled = false;
      transition();
    },
    commandFailed(error) {
      if (!isUnavailableError(error)) return;
      lastError = error;
      stalled = true;
      transition();
    },
    onChange,
    whenReady(timeoutMs) {
      if (status === 'ready') return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const fail = (message: string) => {
          clearTimeout(timer);
          stop();
          reject(new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, message, { cause: lastError }));
        };
        const timer = setTimeout(() => fail(`Redis not ready within ${timeoutMs} ms`), timeoutMs);
        const stop = onChange((next) => {
          if (next === 'closed') fail('broker closed');
          else if (next === 'ready') {
            clearTimeout(timer);
            stop();
            resolve();
          }
        });
        if (status === 'closed') fail('broker closed');
      });
    },
    close() {
      if (status === 'closed') return;
      status = 'closed';
      for (const listener of listeners) listener('closed');
      listeners.clear();
    },
  };
}
