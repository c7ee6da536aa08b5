import type { ChildProcess } from 'node:child_process';

/**
 * Request/response over Node's child-process IPC channel, so the orchestrator can drive the servers and the
 * load generator without touching the sockets being measured. Messages without `replyTo` are events
 * (`{ type: 'listening', ... }`).
 */
export interface IpcRequest {
  requestId: number;
  cmd: string;
  args?: unknown;
}
export type IpcReply =
  | { replyTo: number; ok: true; result: unknown }
  | { replyTo: number; ok: false; error: string };
export interface IpcEvent {
  type: string;
  [key: string]: unknown;
}

type Handler = (args: never) => unknown;

/** In a child: answers requests with the named handlers. */
export function serveIpc(handlers: Record<string, Handler>): void {
  process.on('message', async (message: IpcRequest) => {
    if (typeof message !== 'object' || message === null || typeof message.requestId !== 'number') return;
    const handler = handlers[message.cmd];
    let reply: IpcReply;
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      reply = { replyTo: message.requestId, ok: true, result: await handler(message.args as never) };
    } catch (error) {
      reply = { replyTo: message.requestId, ok: false, error: (error as Error).stack ?? String(error) };
    }
    process.send?.(reply);
  });
  // The orchestrator going away (crash, Ctrl-C) must not leave servers or clients running.
  process.on('disconnect', () => process.exit(0));
}

export function sendEvent(event: IpcEvent): void {
  process.send?.(event);
}

/** In the orchestrator: calls a child's handlers and waits for its events. */
export class IpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly eventWaiters: { types: string[]; resolve(event: IpcEvent): void }[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (received: IpcReply | IpcEvent) => {
      if (typeof received.replyTo === 'number') {
        const message = received as IpcReply;
        const waiter = this.pending.get(message.replyTo);
        this.pending.delete(message.replyTo);
        if (!waiter) return;
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${this.name}: ${message.error}`));
        return;
      }
      const event = received as IpcEvent;
      const index = this.eventWaiters.findIndex((w) => w.types.includes(event.type));
      if (index >= 0) this.eventWaiters.splice(index, 1)[0]!.resolve(event);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`${this.name} exited (code ${code}, signal ${signal})`));
      }
      this.pending.clear();
    });
  }

  call<T>(cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ requestId, cmd, args } satisfies IpcRequest);
    });
  }

  /** The next event of one of these types. */
  waitForEvent(types: string[], timeoutMs: number): Promise<IpcEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no ${types} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.eventWaiters.push({
        types,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the bench processes. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
