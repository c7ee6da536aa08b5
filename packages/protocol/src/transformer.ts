import superjson from 'superjson';

/**
 * The data transformer shared by server and client (tRPC `transformer` option on both ends),
 * so Dates, Maps and BigInts survive the wire.
 */
export const transformer = superjson;
