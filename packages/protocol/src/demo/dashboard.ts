import { z } from 'zod';
import { defineChannel } from '../defineChannel.ts';

/** One instance's figures, computed from the same counters `/metrics` exposes. */
export const instanceStatsSchema = z.object({
  instanceId: z.string(),
  connections: z.number(),
  channels: z.number(),
  subscriptions: z.number(),
  /** Cumulative counters; rates are derived between two samples. */
  messagesReceivedTotal: z.number(),
  messagesSentTotal: z.number(),
  messagesInPerSecond: z.number(),
  messagesOutPerSecond: z.number(),
  eventLoopLagMs: z.number(),
  rssBytes: z.number(),
  heapUsedBytes: z.number(),
  ts: z.number(),
});
export type InstanceStats = z.infer<typeof instanceStatsSchema>;

/** `dashboard.live` yields one snapshot, then a delta every second. */
export const dashboardEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('snapshot'),
    /** Recent history per instance, oldest first, so charts fill immediately. */
    history: z.array(z.object({ ts: z.number(), instances: z.array(instanceStatsSchema) })),
  }),
  z.object({
    kind: z.literal('delta'),
    ts: z.number(),
    instances: z.array(instanceStatsSchema),
  }),
]);
export type DashboardEvent = z.infer<typeof dashboardEventSchema>;

/** Sums per-instance figures into the cluster total. */
export function totalOf(instances: readonly InstanceStats[]): Omit<InstanceStats, 'instanceId'> {
  const sum = (pick: (s: InstanceStats) => number) => instances.reduce((acc, s) => acc + pick(s), 0);
  return {
    connections: sum((s) => s.connections),
    channels: sum((s) => s.channels),
    subscriptions: sum((s) => s.subscriptions),
    messagesReceivedTotal: sum((s) => s.messagesReceivedTotal),
    messagesSentTotal: sum((s) => s.messagesSentTotal),
    messagesInPerSecond: sum((s) => s.messagesInPerSecond),
    messagesOutPerSecond: sum((s) => s.messagesOutPerSecond),
    eventLoopLagMs: Math.max(0, ...instances.map((s) => s.eventLoopLagMs)),
    rssBytes: sum((s) => s.rssBytes),
    heapUsedBytes: sum((s) => s.heapUsedBytes),
    ts: Math.max(0, ...instances.map((s) => s.ts)),
  };
}

/**
 * `dashboard:stats`: every instance publishes its figures here once a second (ephemeral, server-only),
 * so any instance can answer `dashboard.live` for the whole cluster through the broker.
 */
export const dashboardStatsChannel = defineChannel({
  family: 'dashboard',
  events: { stats: { schema: instanceStatsSchema, ephemeral: true, clientPublish: false } },
});
