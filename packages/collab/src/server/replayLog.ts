import { type as textType } from 'ot-text-unicode';
import type { DocLog } from './docStore.ts';

/** The head of a document: its snapshot with every later op of the log applied. */
export function replayLog(log: DocLog): { version: number; text: string } {
  let { version, text } = log.snapshot;
  for (const op of log.ops) {
    if (op.version <= version) continue;
    text = textType.apply(text, op.op);
    version = op.version;
  }
  return { version, text };
}
