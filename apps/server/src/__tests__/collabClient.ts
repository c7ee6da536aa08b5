/**
 * Test fixture: a collaborative-editing client as the collab app runs it — `createOtClient` from
 * `@switchboard/collab` fed by `collab.ops` over the official `@trpc/client` — minus the textarea.
 * `edit()` makes a random insert (with emoji and combining marks) or delete at a random position.
 * `collab.ops` items arrive `tracked` (`{ id, data }`, id = version), so after a dropped socket tRPC resumes
 * the stream after the last op received (`lastEventId`), not from the version it was opened at.
 */
import { createOtClient, type OtClient } from '@switchboard/collab';
import { transformer } from '@switchboard/protocol';
import type { CommittedOp } from '@switchboard/protocol/demo';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../index.ts';

const ALPHABET = ['a', 'b', 'c', ' ', 'é', 'e\u0301', '😀', '👩‍💻', '漢', '\n'];

export interface CollabTestClient {
  ot: OtClient;
  /** Every committed op this client saw on its ops stream, in arrival order. */
  received: CommittedOp[];
  /** Op ids this client submitted (each must be committed exactly once). */
  submitted: Set<string>;
  edit(random: () => number): void;
  close(): void;
}

export async function openCollabClient(options: {
  url: () => string;
  token: string;
  docId: string;
  /** The token's user: the OT client then takes only this user's ops for its acknowledgements. */
  userId?: string;
}): Promise<CollabTestClient> {
  let ot: OtClient | undefined;
  let opens = 0;
  const wsClient = createWSClient({
    url: () => `${options.url()}?token=${options.token}`,
    WebSocket: WebSocket as never,
    retryDelayMs: () => 50 + Math.random() * 200,
    // After a reconnect the in-flight op may have been lost with its ack: send it again (same op id).
    onOpen: () => {
      if (opens++ > 0) ot?.reconnected();
    },
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer })] });
  const { version, text } = await trpc.collab.open.query({ docId: options.docId });
  const submitted = new Set<string>();
  ot = createOtClient({
    version,
    text,
    userId: options.userId,
    submit: (op, v, opId) => {
      submitted.add(opId);
      return trpc.collab.submit.mutate({ docId: options.docId, version: v, op, opId });
    },
  });
  const received: CommittedOp[] = [];
  const closers: (() => void)[] = [];
  const client = ot;
  await new Promise<void>((resolve, reject) => {
    const sub = trpc.collab.ops.subscribe(
      { docId: options.docId, fromVersion: version },
      {
        onStarted: () => resolve(),
        onError: reject,
        onData: ({ id, data: op }) => {
          if (id !== String(op.version)) throw new Error(`tracked id ${id} is not version ${op.version}`);
          received.push(op);
          client.receive(op);
        },
      },
    );
    closers.push(() => sub.unsubscribe());
  });
  return {
    ot: client,
    received,
    submitted,
    edit(random) {
      const chars = [...client.text];
      const position = Math.floor(random() * (chars.length + 1));
      if (chars.length > 0 && random() < 0.35) {
        const at = Math.min(position, chars.length - 1);
        const length = 1 + Math.floor(random() * Math.min(3, chars.length - at));
        client.applyLocal([at, { d: chars.slice(at, at + length).join('') }].filter((c) => c !== 0) as never);
      } else {
        const insert = Array.from(
          { length: 1 + Math.floor(random() * 3) },
          () => ALPHABET[Math.floor(random() * ALPHABET.length)],
        ).join('');
        client.applyLocal([position, insert].filter((c) => c !== 0) as never);
      }
    },
    close() {
      for (const close of closers) close();
      wsClient.close();
    },
  };
}
