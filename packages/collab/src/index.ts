/**
 * `@switchboard/collab`: the browser-safe client half of collaborative plain-text editing with operational
 * transformation (`ot-text-unicode`, positions in code points). The server half is `@switchboard/collab/server`.
 *
 * ```ts
 * const { version, text } = await trpc.collab.open.query({ docId });
 * const ot = createOtClient({ version, text, userId, submit: (op, version, opId) =>
 *   trpc.collab.submit.mutate({ docId, op, version, opId }), onChange });
 * trpc.collab.ops.subscribe({ docId, fromVersion: ot.version }, { onData: ({ data }) => ot.receive(data) });
 * textarea.oninput = () => ot.applyLocal(diffToOp(ot.text, textarea.value, textarea.selectionEnd));
 * // after a reconnect: resubscribe from ot.version, then ot.reconnected()
 * ```
 */

export type { CommittedOp } from '@switchboard/protocol/demo';
export type { TextOp, TextOpComponent } from 'ot-text-unicode';
export { type as textType } from 'ot-text-unicode';
export type { Selection } from './cursor.ts';
export { transformCursor, transformSelection, transformUtf16Offset } from './cursor.ts';
export { diffToOp } from './diff.ts';
export { applyChecked, findOpProblem } from './opCheck.ts';
export { fitsSubmitLimits, splitOpForSubmit } from './opLimits.ts';
export type { OtClientOptions, SubmitOp, TextChange } from './options.ts';
export type { OtClient, OtClientSnapshot, OtClientStatus, ReceiveResult } from './otClient.ts';
export { createOtClient } from './otClient.ts';
export { codePointLength, codePointsToUtf16, toWellFormed, utf16ToCodePoints } from './positions.ts';
export { normalizeOp } from './textOp.ts';
