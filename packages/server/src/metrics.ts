import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Plain counters the hot paths increment (a number add, no label lookup), read by Prometheus at scrape
 * time and by the dashboard. One object per server, so the figures in `/metrics` and `dashboard.live`
 * are the same numbers.
 */
export interface ServerStats {
  /** Open WebSocket connections and SSE streams. */
  readonly connections: number;
  channels: number;
  subscriptions: number;
  messagesReceived: number;
  messagesSent: number;
}

/**
 * Prometheus metrics of one server. Each server owns its registry (not prom-client's global one), so
 * several servers in one process (tests, benchmarks) do not collide.
 */
export function createMetrics(instanceId: string) {
  const stats: ServerStats = {
    connections: 0,
    channels: 0,
    subscriptions: 0,
    messagesReceived: 0,
    messagesSent: 0,
  };
  const registry = new Registry();
  registry.setDefaultLabels({ instance_id: instanceId });
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge('switchboard_connections', 'Open connections: WebSocket and SSE streams', () => stats.connections);
  gauge('switchboard_channels', 'Channels with at least one local subscriber', () => stats.channels);
  gauge('switchboard_subscriptions', 'Local channel subscriptions', () => stats.subscriptions);
  counter(
    'switchboard_messages_received_total',
    'Frames received from clients',
    () => stats.messagesReceived,
  );
  counter('switchboard_messages_sent_total', 'Frames sent to clients', () => stats.messagesSent);
  return {
    registry,
    stats,
    publishDuration: new Histogram({
      name: 'switchboard_publish_duration_seconds',
      help: 'Time from publish request to broker acknowledgement',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    closes: new Counter({
      name: 'switchboard_connection_closes_total',
      help: 'Closed connections by close code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    upgradeRejections: new Counter({
      name: 'switchboard_upgrade_rejections_total',
      help: 'Refused WebSocket upgrades by HTTP status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
