/** What an operator can do about each listen failure Node reports. */
const ADVICE: Record<string, string> = {
  EADDRINUSE: 'is already in use: stop the other process or choose another port',
  EACCES: 'needs privileges (ports below 1024): choose a port of 1024 or more',
  EADDRNOTAVAIL: 'is not an address of this machine: choose another host',
};

/**
 * The error `listen()` rejects with: one line naming the address, why and what to do, instead of Node's
 * `listen EADDRINUSE: address already in use 127.0.0.1:3000`. `code` (`EADDRINUSE`...) is kept so callers
 * can tell failures apart, and Node's error is the `cause`.
 */
export function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  const advice = error.code === undefined ? undefined : ADVICE[error.code];
  const message = advice
    ? `port ${port} on ${host} ${advice} (${error.code})`
    : `cannot listen on port ${port} on ${host}: ${error.message}`;
  return Object.assign(new Error(message, { cause: error }), { code: error.code, port, host });
}
