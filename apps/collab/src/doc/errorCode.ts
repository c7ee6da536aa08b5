import { isRetryableTrpcCode } from '@switchboard/protocol';

/** The tRPC error code of a failed call (`BAD_REQUEST`, ...), or undefined for transport failures. */
export function trpcErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A refusal the same request cannot get past (BAD_REQUEST, CONFLICT...), as opposed to an outage or overload. */
export function isRefusal(error: unknown): boolean {
  const code = trpcErrorCode(error);
  return code !== undefined && !isRetryableTrpcCode(code);
}
