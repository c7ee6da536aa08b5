import { serveIpc } from '../ipc.ts';
import { type PoolSpec, SubscriberPool } from './subscriberPool.ts';

/**
 * Entry of one scale load-generator process (started by `scale/run.ts`, one pool of sockets each).
 * Commands: `ready`, `connect`, `status`, `arm`, `deliveries`, `publish`, `close`. Connects to 127.0.0.1 only.
 */
let pool: SubscriberPool | undefined;

function current(): SubscriberPool {
  if (!pool) throw new Error('no pool: call connect first');
  return pool;
}

serveIpc({
  ready: () => true,
  connect(args: PoolSpec & { inFlight: number; timeoutMs: number }) {
    if (pool) throw new Error('pool exists');
    pool = new SubscriberPool(args);
    return pool.connect(args.inFlight, args.timeoutMs);
  },
  status: () => current().status(),
  arm: (args: { seq: number }) => current().arm(args.seq),
  deliveries: (args: { timeoutMs: number }) => current().deliveries(args.timeoutMs),
  publish: (args: { port: number; seq: number; timeoutMs: number }) =>
    current().publish(args.port, args.seq, args.timeoutMs),
  close() {
    pool?.close();
    return true;
  },
});
