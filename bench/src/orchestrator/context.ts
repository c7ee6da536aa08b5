import type { BenchConfig } from '../config.ts';
import type { BurstResult, GroupSpec, RateResult, StormResult } from '../loadgen/group.ts';
import { channelName } from '../wire.ts';
import type { NodeChild } from './children.ts';
import { cpuMeter } from './procStat.ts';
import type { ResultBook } from './results.ts';

/** What every scenario gets: the settings, the result book, the load generator and the clock. */
export class BenchContext {
  private readonly startedAt = Date.now();

  constructor(
    readonly config: BenchConfig,
    readonly book: ResultBook,
    readonly loadgen: NodeChild,
  ) {}

  log(message: string): void {
    const elapsed = ((Date.now() - this.startedAt) / 1000).toFixed(0).padStart(4);
    process.stdout.write(`[bench ${elapsed}s] ${message}\n`);
  }

  /** False when a step estimated to take `estimateMs` would run past the deadline. */
  hasTime(estimateMs: number): boolean {
    return Date.now() + estimateMs < this.startedAt + this.config.deadlineMs;
  }

  /** Runs one measurement; a failure is noted and the run goes on with the next one. */
  async attempt(label: string, operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!.slice(0, 400);
      this.log(`${label} failed: ${message}`);
      this.book.note(`${label} failed: ${message}`);
    }
  }

  /** Runs `operation` and reports the CPU the servers (and extra pids) and the load generator used meanwhile. */
  async measure<T>(serverPids: number[], operation: () => Promise<T>, extraPids: number[] = []) {
    const server = cpuMeter(serverPids);
    const extra = cpuMeter(extraPids);
    const loadgen = cpuMeter([this.loadgen.pid]);
    const started = performance.now();
    const result = await operation();
    const wallMs = performance.now() - started;
    return { result, serverCpuMs: server(), extraCpuMs: extra(), loadgenCpuMs: loadgen(), wallMs };
  }

  // The load generator's commands (see loadgen/main.ts), each bounded in time.

  connect(spec: GroupSpec, timeoutMs = 180_000) {
    return this.loadgen.ipc.call<{ connected: number; elapsedMs: number }>(
      'connect',
      { ...spec, concurrency: 200, timeoutMs },
      timeoutMs + 5_000,
    );
  }

  quiesce(key: string, timeoutMs = 60_000) {
    return this.loadgen.ipc.call<{ waitedMs: number }>(
      'quiesce',
      { key, quietMs: 300, timeoutMs },
      timeoutMs + 5_000,
    );
  }

  burst(key: string, channels: number, eventsPerChannel: number, timeoutMs = 60_000) {
    return this.loadgen.ipc.call<BurstResult>(
      'burst',
      { key, channels, eventsPerChannel, timeoutMs },
      timeoutMs + 5_000,
    );
  }

  /**
   * Server-side publishing (the unbatched scenario): arms the generator's counter for `count` events to
   * channel 0, has `server` publish them one per macrotask, and waits for the deliveries. Deliveries/s run
   * from the server's first publish to the last delivery (both wall clocks of this machine).
   */
  async serverPublishes(key: string, server: NodeChild, count: number, timeoutMs = 60_000) {
    const { expected } = await this.loadgen.ipc.call<{ expected: number }>('expectDeliveries', {
      key,
      channels: 1,
      eventsPerChannel: count,
    });
    const published = await server.ipc.call<{ startedAt: number; finishedAt: number }>(
      'publishSpread',
      { channel: channelName(0), count },
      timeoutMs,
    );
    const received = await this.loadgen.ipc.call<{
      expected: number;
      delivered: number;
      complete: boolean;
      lastAt: number;
    }>('awaitDeliveries', { key, timeoutMs }, timeoutMs + 5_000);
    const elapsedMs = received.lastAt - published.startedAt;
    return {
      ...received,
      expected,
      elapsedMs,
      publishMs: published.finishedAt - published.startedAt,
      deliveriesPerSec: (received.delivered / elapsedMs) * 1000,
    };
  }

  rate(key: string, publishesPerSecond: number, durationMs: number, graceMs = 1_000) {
    return this.loadgen.ipc.call<RateResult>(
      'rate',
      { key, publishesPerSecond, durationMs, graceMs },
      durationMs + graceMs + 30_000,
    );
  }

  armStorm(key: string, timeoutMs = 60_000) {
    return this.loadgen.ipc.call<{ resumeIds: number }>('armStorm', { key, timeoutMs }, timeoutMs + 5_000);
  }

  stormResult(key: string, timeoutMs: number) {
    return this.loadgen.ipc.call<StormResult>('stormResult', { key, timeoutMs }, timeoutMs + 5_000);
  }

  closeGroup(key: string) {
    return this.loadgen.ipc.call('close', { key, timeoutMs: 10_000 }, 20_000);
  }
}

/** The systems in a different order each repetition, so none always runs first (or right after another). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
