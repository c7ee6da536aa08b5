import type { ScaleFigures } from './scaleFigures.ts';

/**
 * From the measured per-unit costs to a bigger machine and a Redis Cluster. Arithmetic only: every
 * number below is a measured cost times a count, under the assumptions `extrapolationMarkdown` states.
 */
export const target = {
  cores: 32,
  /** One Switchboard process per core, two cores left for redis-server and the kernel's network work. */
  instances: 30,
  /** Memory assumed for the 32-core machine, and the share left to the instances. */
  memoryGiB: 64,
  usableMemoryShare: 0.85,
  /** The broadcast goal the connection count is sized against, in ms. */
  broadcastGoalMs: 1_000,
  networkGbitPerSec: 10,
  /** TCP/IP headers per delivery when every delivery is its own segment (Ethernet + IPv4 + TCP with timestamps). */
  perSegmentOverheadBytes: 66,
} as const;

export interface Projection {
  connections: number;
  perInstance: number;
  /** First delivery (as measured here) + one instance's share of deliveries at the measured CPU per delivery. */
  broadcastLastMs: number;
  /** Broadcasts per second to everyone before the instances' cores are saturated. */
  broadcastsPerSecToAll: number;
  /** Reconnecting every client: instance CPU spread over all instance cores, in s. */
  reconnectAllInstanceSec: number;
  /** The same storm's Redis work (one subscribe-time script per connection) on one Redis core, in s. */
  reconnectAllRedisSec: number;
  /** Bytes one broadcast puts on the wire, and the time they take at the assumed network speed. */
  wireMiB: number;
  wireMs: number;
  /** RSS of all instances plus kernel TCP memory of the server's ends, in GiB. */
  memoryGiB: number;
}

const MiB = 2 ** 20;

export function project(f: ScaleFigures, connections: number): Projection {
  const perInstance = connections / target.instances;
  const kernelPerConnKiB = f.kernelTcpPerConnectionKiB / 2;
  const wireBytes = connections * (f.messageBytes + 4 + target.perSegmentOverheadBytes);
  return {
    connections,
    perInstance,
    broadcastLastMs: f.medianFirstMs + (perInstance * f.serverCpuPerDeliveryUs) / 1000,
    broadcastsPerSecToAll: (target.instances * 1e6) / (connections * f.serverCpuPerDeliveryUs),
    reconnectAllInstanceSec: (connections * f.serverCpuPerConnectUs) / target.instances / 1e6,
    reconnectAllRedisSec: (connections * f.redisCpuPerConnectUs) / 1e6,
    wireMiB: wireBytes / MiB,
    wireMs: (wireBytes * 8) / (target.networkGbitPerSec * 1e9) / 1e-3,
    memoryGiB:
      (target.instances * f.baselineRssMiB * MiB +
        connections * (f.rssPerConnectionKiB + Math.max(0, kernelPerConnKiB)) * 1024) /
      2 ** 30,
  };
}

/** Connections the assumed memory holds, and connections one broadcast reaches within the goal by CPU and by wire. */
export function limits(f: ScaleFigures) {
  const usableBytes = target.memoryGiB * target.usableMemoryShare * 2 ** 30;
  const perConnectionBytes = (f.rssPerConnectionKiB + Math.max(0, f.kernelTcpPerConnectionKiB / 2)) * 1024;
  const byMemory = (usableBytes - target.instances * f.baselineRssMiB * MiB) / perConnectionBytes;
  const byBroadcastGoal =
    (target.instances * (target.broadcastGoalMs - f.medianFirstMs) * 1000) / f.serverCpuPerDeliveryUs;
  const wireBitsPerConnection = (f.messageBytes + 4 + target.perSegmentOverheadBytes) * 8;
  const byWireGoal =
    ((target.networkGbitPerSec * 1e9) / wireBitsPerConnection) * (target.broadcastGoalMs / 1000);
  return {
    byMemory: Math.floor(byMemory),
    byBroadcastGoal: Math.floor(byBroadcastGoal),
    byWireGoal: Math.floor(byWireGoal),
  };
}

/** On this machine: what the same model predicts for the measured broadcast, to show how far it can be trusted. */
export function modelCheck(f: ScaleFigures, cores: number) {
  const cpuMsPerBroadcast = f.serverCpuPerBroadcastMs + (f.loadgenCpuPerDeliveryUs * f.connections) / 1000;
  return { predictedLastMs: f.medianFirstMs + cpuMsPerBroadcast / cores, measuredLastMs: f.medianLastMs };
}
