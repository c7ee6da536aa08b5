import type { CloseCode, ErrorCode } from './codes.ts';

/**
 * The one error class of Switchboard. `closeCode` is set when the error ends the connection; the
 * server closes with it in one place. Check with `isSwitchboardError`, not `instanceof`, because
 * two loaded copies of this module would break `instanceof`.
 */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';
  readonly code: ErrorCode;
  readonly closeCode: CloseCode | undefined;

  constructor(code: ErrorCode, message: string, options: { closeCode?: CloseCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
  }
}

export function isSwitchboardError(value: unknown): value is SwitchboardError {
  return (
    value instanceof Error &&
    value.name === 'SwitchboardError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}
