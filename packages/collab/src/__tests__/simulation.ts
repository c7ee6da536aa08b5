/**
 * An in-process network between `OtClient`s and one or more `CollabService`s, for convergence tests.
 *
 * Every client has an uplink (submits not yet delivered to its service) and a downlink (committed ops its
 * `ops` stream produced, not yet given to the client). Tests drain them in any order with `deliverSubmit`,
 * `deliverOps`, `disconnect` and `reconnect`, so fast-check chooses delays, interleavings and lost acks and
 * can shrink a failing schedule. `settle()` then delivers everything until the system is quiet.
 * A disconnect drops both queues: submits not yet delivered are lost, and a submit the service is still
 * processing loses its answer (the op may be committed; the client resends it with the same id).
 * To add a fault, add a method that drops or reorders a queue, and a command that calls it.
 */
import type { CommittedOp } from '@switchboard/protocol/demo';
import { diffToOp } from '../diff.ts';
import type { TextOp } from '../index.ts';
import type { OtClient } from '../otClient.ts';
import { createOtClient } from '../otClient.ts';
import { codePointsToUtf16 } from '../positions.ts';
import type { CollabService } from '../server/collabService.ts';

/** How long `settle` waits for a stream to produce the head version before it fails the test. */
const STREAM_WAIT_MS = 5_000;
/** Rounds of `settle` before it gives up: each round delivers every queue once. */
const MAX_SETTLE_ROUNDS = 100;

interface PendingSubmit {
  op: TextOp;
  version: number;
  opId: string;
  resolve: (value: { version: number }) => void;
  reject: (error: unknown) => void;
}

export interface SimClient {
  readonly index: number;
  readonly ot: OtClient;
  /** The instance this client is connected to; `reconnect` may move it. */
  service: CollabService;
  connected: boolean;
  uplink: PendingSubmit[];
  downlink: CommittedOp[];
  /** Every op id this client ever submitted (resubmits included once). */
  readonly sentOpIds: Set<string>;
  /** Submit errors other than lost connections: always a bug in these tests. */
  readonly unexpectedErrors: unknown[];
}

interface ClientLink {
  generation: number;
  abort: AbortController;
  pumpedVersion: number;
  waiters: { version: number; resolve: () => void }[];
}

export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
}

export class Simulation {
  readonly clients: SimClient[] = [];
  private readonly links = new Map<SimClient, ClientLink>();
  private readonly serverCalls = new Set<Promise<unknown>>();
  private readonly streamErrors: unknown[] = [];

  private constructor(
    private readonly services: readonly CollabService[],
    readonly docId: string,
  ) {}

  /** Opens `docId` for `clientCount` clients, spread round-robin over `services`, each with a live stream. */
  static async start(
    services: readonly CollabService[],
    docId: string,
    clientCount: number,
  ): Promise<Simulation> {
    const simulation = new Simulation(services, docId);
    for (let index = 0; index < clientCount; index++) await simulation.addClient(index);
    return simulation;
  }

  private async addClient(index: number): Promise<void> {
    const service = this.services[index % this.services.length]!;
    const { version, text } = await service.open(this.docId);
    const sentOpIds = new Set<string>();
    const unexpectedErrors: unknown[] = [];
    const uplink: PendingSubmit[] = [];
    const ot = createOtClient({
      version,
      text,
      submit: (op, baseVersion, opId) =>
        new Promise((resolve, reject) => {
          sentOpIds.add(opId);
          client.uplink.push({ op, version: baseVersion, opId, resolve, reject });
        }),
      onSubmitError: (error) => {
        if (!(error instanceof ConnectionLost)) unexpectedErrors.push(error);
      },
    });
    const client: SimClient = {
      index,
      ot,
      service,
      connected: true,
      uplink,
      downlink: [],
      sentOpIds,
      unexpectedErrors,
    };
    this.clients.push(client);
    this.openStream(client, 0);
  }

  private openStream(client: SimClient, generation: number): void {
    const link: ClientLink = {
      generation,
      abort: new AbortController(),
      pumpedVersion: client.ot.version,
      waiters: [],
    };
    this.links.set(client, link);
    const stream = client.service.ops({
      docId: this.docId,
      fromVersion: client.ot.version,
      signal: link.abort.signal,
    });
    void (async () => {
      try {
        for await (const op of await stream) {
          if (this.links.get(client) !== link) return;
          client.downlink.push(op);
          link.pumpedVersion = op.version;
          link.waiters = link.waiters.filter((waiter) => {
            if (waiter.version > op.version) return true;
            waiter.resolve();
            return false;
          });
        }
      } catch (error) {
        this.streamErrors.push(error);
      }
    })();
  }

  /** A local edit on client `index`: replace `deleteCount` code points at `at` (0..1 of the text) with `insert`. */
  edit(index: number, at: number, deleteCount: number, insert: string): void {
    const client = this.clients[index]!;
    const before = client.ot.text;
    const chars = Array.from(before);
    const position = Math.min(chars.length, Math.floor(at * (chars.length + 1)));
    const removed = Math.min(deleteCount, chars.length - position);
    const after = [...chars.slice(0, position), insert, ...chars.slice(position + removed)].join('');
    const cursor = codePointsToUtf16(after, position) + insert.length;
    client.ot.applyLocal(diffToOp(before, after, cursor));
  }

  /** Delivers client `index`'s oldest queued submit to its service; the answer comes back when it is ready. */
  deliverSubmit(index: number): void {
    const client = this.clients[index]!;
    const submit = client.uplink.shift();
    if (!submit) return;
    const generation = this.links.get(client)!.generation;
    const call = client.service
      .submit({
        docId: this.docId,
        version: submit.version,
        op: submit.op,
        opId: submit.opId,
        userId: `u${index}`,
      })
      .then(
        (result) => {
          if (this.isCurrent(client, generation)) submit.resolve(result);
          else submit.reject(new ConnectionLost('ack lost'));
        },
        (error: unknown) =>
          submit.reject(this.isCurrent(client, generation) ? error : new ConnectionLost('lost')),
      );
    this.serverCalls.add(call);
    void call.finally(() => this.serverCalls.delete(call));
  }

  /** Gives client `index` up to `count` ops its stream has produced. */
  deliverOps(index: number, count: number): void {
    const client = this.clients[index]!;
    for (const op of client.downlink.splice(0, count)) {
      const result = client.ot.receive(op);
      if (result === 'gap') throw new Error(`client ${index} saw a gap at version ${op.version}`);
    }
  }

  /** Drops client `index`'s connection: queued submits and undelivered ops are lost. */
  disconnect(index: number): void {
    const client = this.clients[index]!;
    if (!client.connected) return;
    client.connected = false;
    const link = this.links.get(client)!;
    link.generation = -1;
    link.abort.abort();
    for (const submit of client.uplink.splice(0)) submit.reject(new ConnectionLost('not sent'));
    client.downlink = [];
  }

  /**
   * Reconnects client `index`, to service `serviceIndex` when given (another instance): a new stream from its
   * version, then its unacknowledged ops are resent.
   */
  reconnect(index: number, serviceIndex?: number): void {
    const client = this.clients[index]!;
    if (client.connected) return;
    if (serviceIndex !== undefined) client.service = this.services[serviceIndex]!;
    client.connected = true;
    this.openStream(client, (this.generationCounter += 1));
    client.ot.reconnected();
  }
  private generationCounter = 0;

  private isCurrent(client: SimClient, generation: number): boolean {
    return client.connected && this.links.get(client)?.generation === generation;
  }

  /** Lets streams and store callbacks run (one macrotask turn; not a timed wait). */
  async tick(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Reconnects everyone and delivers every queue until nothing is in flight and all clients are at the head. */
  async settle(): Promise<void> {
    for (const client of this.clients) this.reconnect(client.index);
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      this.throwIfFailed();
      for (const client of this.clients) while (client.uplink.length > 0) this.deliverSubmit(client.index);
      await Promise.all([...this.serverCalls]);
      const head = await this.headVersion();
      await Promise.all(this.clients.map((client) => this.waitForPumped(client, head)));
      for (const client of this.clients) this.deliverOps(client.index, Number.POSITIVE_INFINITY);
      await this.tick();
      const quiet = this.clients.every(
        (client) =>
          client.uplink.length === 0 &&
          client.ot.getSnapshot().status === 'synced' &&
          client.ot.version === head,
      );
      if (quiet && this.serverCalls.size === 0) return;
    }
    throw new Error(`not settled after ${MAX_SETTLE_ROUNDS} rounds`);
  }

  async headVersion(): Promise<number> {
    return (await this.services[0]!.open(this.docId)).version;
  }

  private waitForPumped(client: SimClient, version: number): Promise<void> {
    const link = this.links.get(client)!;
    if (link.pumpedVersion >= version) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.throwIfFailed();
        reject(
          new Error(
            `client ${client.index}'s stream did not reach version ${version} in ${STREAM_WAIT_MS} ms`,
          ),
        );
      }, STREAM_WAIT_MS);
      link.waiters.push({
        version,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  throwIfFailed(): void {
    if (this.streamErrors.length > 0) throw this.streamErrors[0];
    for (const client of this.clients) {
      if (client.unexpectedErrors.length > 0) throw client.unexpectedErrors[0];
    }
  }

  /** Ends every stream. */
  stop(): void {
    for (const link of this.links.values()) link.abort.abort();
  }
}

/**
 * Reads every committed op from version 0 on, until `stop()`: the observer the exactly-once checks use.
 * Start it before the first edit when the store trims its log.
 */
export function observeOps(service: CollabService, docId: string) {
  const abort = new AbortController();
  const ops: CommittedOp[] = [];
  const errors: unknown[] = [];
  const waiters: { version: number; resolve: () => void }[] = [];
  void (async () => {
    try {
      for await (const op of await service.ops({ docId, fromVersion: 0, signal: abort.signal })) {
        ops.push(op);
        for (const waiter of waiters.splice(0)) {
          if (waiter.version <= op.version) waiter.resolve();
          else waiters.push(waiter);
        }
      }
    } catch (error) {
      errors.push(error);
    }
  })();
  return {
    ops,
    errors,
    /** Resolves once the op with `version` was observed. */
    reached(version: number): Promise<void> {
      if ((ops.at(-1)?.version ?? 0) >= version) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ version, resolve }));
    },
    stop: () => abort.abort(),
  };
}
