/** The tRPC error code of a failed call (`BAD_REQUEST`, ...), or undefined for transport failures. */
export function trpcErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return typeof code === 'string' ? code : undefined;
}
