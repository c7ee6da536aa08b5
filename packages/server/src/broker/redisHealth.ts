import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { ReplyError } from 'ioredis';
import type { Logger } from 'pino';
import type { BrokerStatus } from './broker.ts';
import { describeRedisError } from './redisErrorReason.ts';

/**
 * The Redis broker's status as one small state machine: `connecting` until Redis first answers, then
 * `ready` ⇄ `unavailable`, and `closed` at the end. Inputs are the connections' own states and the outcome
 * of commands, because a stalled Redis (SIGSTOP, a long script) keeps its TCP connections open and only
 * shows up as commands timing out. Each change is logged once, however many errors caused it; while Redis
 * stays unavailable, a reason not logged yet in that period is logged once more (so a password fixed but a
 * host still down shows), never the same one twice: a Redis that stays down logs one line, not one per retry.
 */
export interface Health {
  readonly status: BrokerStatus;
  /** Why the status is not `ready`, one line naming the server (`redis 127.0.0.1:6390: connect ECONNREFUSED`). */
  readonly reason: string | undefined;
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

/** Distinct reasons logged in one unavailable period at most (a Cluster has one per node and failure). */
const MAX_REASONS_LOGGED = 16;

/**
 * `address` names the configured Redis in reasons whose error does not (see `redisAddress`).
 */
export function createHealth(connectionsReady: () => boolean, logger: Logger, address: string): Health {
  let status: BrokerStatus = 'connecting';
  let stalled = false;
  let lastError: unknown;
  /** Reasons logged since the status last left `ready`. */
  const reasonsLogged = new Set<string>();
  const listeners = new Set<(status: BrokerStatus) => void>();

  function reason(): string | undefined {
    switch (status) {
      case 'ready':
        return undefined;
      case 'closed':
        return 'broker closed';
      case 'connecting':
        return lastError === undefined
          ? `connecting to redis ${address}`
          : describeRedisError(lastError, address);
      case 'unavailable':
        return lastError === undefined
          ? `redis ${address}: connection closed`
          : describeRedisError(lastError, address);
    }
  }

  /** Logs the current reason unless this unavailable period already logged it. */
  function logReason(message: string, fields: Record<string, unknown>) {
    const current = reason();
    if (current === undefined || reasonsLogged.has(current) || reasonsLogged.size >= MAX_REASONS_LOGGED)
      return;
    reasonsLogged.add(current);
    logger.warn({ ...fields, reason: current, err: lastError }, message);
  }

  function transition() {
    if (status === 'closed') return;
    let next: BrokerStatus;
    if (connectionsReady() && !stalled) next = 'ready';
    else if (status === 'connecting' && lastError === undefined) next = 'connecting';
    else next = 'unavailable';
    if (next === status) return;
    const previous = status;
    status = next;
    if (next === 'unavailable') logReason('redis broker unavailable', { previous });
    else if (next === 'ready') {
      // A later failure is a new period: its reasons are news again, and an old error is no reason.
      reasonsLogged.clear();
      lastError = undefined;
      logger.info({ previous }, previous === 'connecting' ? 'redis broker ready' : 'redis broker recovered');
    }
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
    get reason() {
      return reason();
    },
    connectionsChanged(error) {
      if (error !== undefined) lastError = error;
      const before = status;
      transition();
      if (error !== undefined && status === 'unavailable' && before === 'unavailable')
        logReason('redis broker still unavailable', {});
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
      const before = status;
      transition();
      if (status === 'unavailable' && before === 'unavailable')
        logReason('redis broker still unavailable', {});
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
        const timer = setTimeout(
          () => fail(`Redis not ready within ${timeoutMs} ms (${reason()})`),
          timeoutMs,
        );
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
