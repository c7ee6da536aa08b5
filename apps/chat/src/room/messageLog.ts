import type { Sender } from '@switchboard/protocol';

/** `pending` until the server acknowledges or echoes it, `failed` when the publish was rejected or lost. */
export type SendStatus = 'pending' | 'sent' | 'failed';

export interface ChatMessage {
  /** Stable React key: the event id, or the correlation id while it is still local. */
  key: string;
  id?: string;
  correlationId?: string;
  text: string;
  sender: Sender;
  ts: number;
  status: SendStatus;
  error?: string;
}

/**
 * The messages of one room, in arrival order, deduplicated by event id. Local sends are shown at once
 * and reconciled with the server's copy by `correlationId` (the echo) or by the acknowledged id,
 * whichever comes first; a replay after a reconnect adds nothing twice.
 */
export interface MessageLog {
  messages: ChatMessage[];
  /** Event ids already shown. */
  seenIds: ReadonlySet<string>;
}

export type MessageLogAction =
  | { type: 'received'; id: string; text: string; sender: Sender; ts: number; correlationId?: string }
  | { type: 'sendStarted'; correlationId: string; text: string; sender: Sender }
  | { type: 'sendAcked'; correlationId: string; id: string }
  | { type: 'sendFailed'; correlationId: string; error: string }
  | { type: 'retryStarted'; correlationId: string };

/** Messages kept per room; the oldest scroll out. */
export const MAX_MESSAGES = 500;

export const emptyMessageLog: MessageLog = { messages: [], seenIds: new Set() };

function withId(log: MessageLog, messages: ChatMessage[], id: string): MessageLog {
  const seenIds = new Set(log.seenIds).add(id);
  const trimmed = messages.length > MAX_MESSAGES ? messages.slice(-MAX_MESSAGES) : messages;
  return { messages: trimmed, seenIds };
}

function updateLocal(log: MessageLog, correlationId: string, patch: Partial<ChatMessage>): MessageLog {
  const index = log.messages.findIndex((m) => m.correlationId === correlationId && m.status !== 'sent');
  if (index === -1) return log;
  const messages = log.messages.slice();
  messages[index] = { ...messages[index]!, ...patch };
  return { ...log, messages };
}

export function messageLogReducer(log: MessageLog, action: MessageLogAction): MessageLog {
  switch (action.type) {
    case 'received': {
      if (log.seenIds.has(action.id)) return log;
      const confirmed = { id: action.id, status: 'sent' as const, ts: action.ts };
      const local = action.correlationId
        ? log.messages.findIndex(
            (m) =>
              m.correlationId === action.correlationId &&
              m.status !== 'sent' &&
              m.sender.userId === action.sender.userId,
          )
        : -1;
      if (local !== -1) {
        const messages = log.messages.slice();
        messages[local] = { ...messages[local]!, ...confirmed, error: undefined };
        return withId(log, messages, action.id);
      }
      const message: ChatMessage = {
        key: action.id,
        correlationId: action.correlationId,
        text: action.text,
        sender: action.sender,
        ...confirmed,
      };
      return withId(log, [...log.messages, message], action.id);
    }
    case 'sendStarted':
      return {
        ...log,
        messages: [
          ...log.messages,
          {
            key: action.correlationId,
            correlationId: action.correlationId,
            text: action.text,
            sender: action.sender,
            ts: Date.now(),
            status: 'pending',
          },
        ],
      };
    case 'sendAcked': {
      if (log.seenIds.has(action.id)) {
        // The echo came first. It normally confirmed the local copy by correlation id; if it could not, the
        // echo is already shown, so the local copy goes.
        const messages = log.messages.filter(
          (m) => !(m.correlationId === action.correlationId && m.status !== 'sent'),
        );
        return messages.length === log.messages.length ? log : { ...log, messages };
      }
      const next = updateLocal(log, action.correlationId, {
        id: action.id,
        status: 'sent',
        error: undefined,
      });
      return next === log ? log : withId(next, next.messages, action.id);
    }
    case 'sendFailed':
      return updateLocal(log, action.correlationId, { status: 'failed', error: action.error });
    case 'retryStarted':
      return updateLocal(log, action.correlationId, { status: 'pending', error: undefined });
  }
}
