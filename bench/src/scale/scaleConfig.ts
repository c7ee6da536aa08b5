/**
 * Every size, count and duration of `pnpm bench:scale`, in one place. The defaults are issue 15's run
 * (100,000 subscribed connections, 6 instances on one Redis); `SCALE_CONNECTIONS=6000` and the other
 * `SCALE_*` variables make the small runs that check the harness without taking the machine for minutes.
 */
export interface ScaleConfig {
  /** Subscribed connections to make, spread evenly over the instances. */
  connections: number;
  /** Switchboard processes on the one redis-server. */
  instances: number;
  /** Load-generator processes; each holds connections / loadgens sockets (keep under ~18,000). */
  loadgens: number;
  /** WebSocket handshakes in flight across all load generators (split evenly between them). */
  handshakesInFlight: number;
  /** Broadcasts published after everything is subscribed; the first is reported alone, all as a median. */
  broadcasts: number;
  /** Time from one broadcast's publish to the next one's, in ms. */
  broadcastSpacingMs: number;
  /** Longest wait for one broadcast's deliveries, in ms. */
  broadcastTimeoutMs: number;
  /** Longest wait for all connections to be subscribed, in ms; what is live by then is what is measured. */
  connectTimeoutMs: number;
  /** Quiet window before the broadcasts, to measure what the idle instances cost (heartbeats), in ms. */
  idleWindowMs: number;
  /** The whole run stops (children killed, partial results written) after this, in ms. */
  deadlineMs: number;
  /** V8 old-space limit of the instances and load generators, in MiB. */
  maxOldSpaceMiB: number;
  /** Whether this is the full run (rewrites BENCHMARKS.md's scale block and `scale-latest.*`). */
  full: boolean;
}

/** The connection count issue 15 asks for. */
export const FULL_CONNECTIONS = 100_000;
/** A load generator's share of sockets stays under this (per-process open-files limit here: 20,000). */
export const MAX_SOCKETS_PER_LOADGEN = 17_000;
/** The single broadcast channel every subscriber is on ("one broadcast reaching all of them"). */
export const SCALE_CHANNEL = 'bench:scale';

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

/** Reads `SCALE_CONNECTIONS`, `SCALE_INSTANCES`, `SCALE_LOADGENS`, `SCALE_BROADCASTS`, `SCALE_DEADLINE_S`. */
export function scaleConfigFromEnv(env: NodeJS.ProcessEnv): ScaleConfig {
  const connections = intFrom(env, 'SCALE_CONNECTIONS', FULL_CONNECTIONS);
  const instances = intFrom(env, 'SCALE_INSTANCES', 6);
  const loadgens = intFrom(
    env,
    'SCALE_LOADGENS',
    Math.max(Math.min(6, connections), Math.ceil(connections / MAX_SOCKETS_PER_LOADGEN)),
  );
  if (Math.ceil(connections / loadgens) > 18_000) {
    throw new Error(
      `${loadgens} load generators would hold more than 18,000 sockets each; raise SCALE_LOADGENS`,
    );
  }
  return {
    connections,
    instances,
    loadgens,
    handshakesInFlight: intFrom(env, 'SCALE_IN_FLIGHT', 240),
    broadcasts: intFrom(env, 'SCALE_BROADCASTS', 11),
    broadcastSpacingMs: 2_000,
    broadcastTimeoutMs: 30_000,
    connectTimeoutMs: intFrom(env, 'SCALE_CONNECT_TIMEOUT_S', 300) * 1000,
    idleWindowMs: 3_000,
    deadlineMs: intFrom(env, 'SCALE_DEADLINE_S', 600) * 1000,
    maxOldSpaceMiB: 3_072,
    full: connections >= FULL_CONNECTIONS,
  };
}
