import { serveIpc } from '../ipc.ts';
import { Group, type GroupSpec } from './group.ts';

/**
 * Entry of the load generator process. Holds any number of socket groups (one per system under test) and
 * runs one measurement at a time on request from the orchestrator. Only ever connects to 127.0.0.1.
 */
const groups = new Map<string, Group>();

function group(key: string): Group {
  const found = groups.get(key);
  if (!found) throw new Error(`no group ${key}`);
  return found;
}

serveIpc({
  async connect(args: GroupSpec & { concurrency: number; timeoutMs: number }) {
    if (groups.has(args.key)) throw new Error(`group ${args.key} exists`);
    const created = new Group(args);
    groups.set(args.key, created);
    return created.connect(args.concurrency, args.timeoutMs);
  },
  quiesce: (args: { key: string; quietMs: number; timeoutMs: number }) =>
    group(args.key).quiesce(args.quietMs, args.timeoutMs),
  burst: (args: { key: string; channels: number; eventsPerChannel: number; timeoutMs: number }) =>
    group(args.key).burst(args.channels, args.eventsPerChannel, args.timeoutMs),
  expectDeliveries: (args: { key: string; channels: number; eventsPerChannel: number }) =>
    group(args.key).expectDeliveries(args.channels, args.eventsPerChannel),
  awaitDeliveries: (args: { key: string; timeoutMs: number }) =>
    group(args.key).awaitDeliveries(args.timeoutMs),
  rate: (args: { key: string; publishesPerSecond: number; durationMs: number; graceMs: number }) =>
    group(args.key).rate(args.publishesPerSecond, args.durationMs, args.graceMs),
  armStorm: (args: { key: string; timeoutMs: number }) => group(args.key).armStorm(args.timeoutMs),
  stormResult: (args: { key: string; timeoutMs: number }) => group(args.key).stormResult(args.timeoutMs),
  async close(args: { key: string; timeoutMs: number }) {
    const found = groups.get(args.key);
    groups.delete(args.key);
    await found?.close(args.timeoutMs);
    return true;
  },
});
