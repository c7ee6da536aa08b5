import { z } from 'zod';

/**
 * The inbound tRPC wire messages, strictly. tRPC's own handler answers PARSE_ERROR and keeps a socket
 * that sends garbage; here a frame that is not one of these closes the connection with 1008.
 */
const requestId = z.union([z.number().int().safe(), z.string().min(1).max(64)]);
const jsonrpc = z.literal('2.0').optional();

export const requestMessageSchema = z.object({
  id: requestId,
  jsonrpc,
  method: z.enum(['query', 'mutation', 'subscription']),
  params: z.object({
    path: z.string().min(1).max(200),
    input: z.unknown().optional(),
    lastEventId: z.string().max(64).optional(),
  }),
});

export const stopMessageSchema = z.object({ id: requestId, jsonrpc, method: z.literal('subscription.stop') });

/** Sent first by clients configured with `connectionParams`; credentials come from the upgrade, so it is ignored. */
export const connectionParamsMessageSchema = z.object({
  method: z.literal('connectionParams'),
  data: z.record(z.string(), z.string()).nullable().optional(),
});

export const inboundMessageSchema = z.union([
  requestMessageSchema,
  stopMessageSchema,
  connectionParamsMessageSchema,
]);
export type RequestMessage = z.infer<typeof requestMessageSchema>;
export type InboundMessage = z.infer<typeof inboundMessageSchema>;
