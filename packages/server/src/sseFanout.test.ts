import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { ChannelStream, createFanout } from './fanout.ts';
import { createMetrics } from './metrics.ts';
import { sseEventChunk } from './sseFrames.ts';

/** A sink that keeps what it was sent, by identity. */
function recordingSink() {
  const frames: Buffer[] = [];
  return { frames, sendFrame: (frame: Buffer) => frames.push(frame) > 0 };
}

const message = (text: string) =>
  JSON.stringify({ type: 'message', channel: 'chat:room', payload: { text }, ts: 1 });

describe('fan-out to SSE subscribers', () => {
  it('encodes an event once per position and hands every SSE subscriber the same bytes', async () => {
    const broker = createMemoryBroker();
    const fanout = createFanout(broker, createMetrics('test').stats);
    const sinks = [recordingSink(), recordingSink(), recordingSink()];
    const ws = recordingSink();
    const detaches = await Promise.all(
      sinks.map((sink) => fanout.attachSse(new ChannelStream('chat:room', 'c', undefined, 0, false), sink)),
    );
    const wsSubscription = await fanout.attach(
      new ChannelStream('chat:room', 'w', undefined, 0, false),
      ws,
      1,
    );
    const { id } = await broker.publish('chat:room', {
      type: 'message',
      json: message('hi'),
      ephemeral: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const last = sinks.map((sink) => sink.frames.at(-1)!);
    // One Buffer shared by all three, not three equal copies.
    expect(last[1]).toBe(last[0]);
    expect(last[2]).toBe(last[0]);
    const event: BrokerEvent = { channel: 'chat:room', type: 'message', json: message('hi'), id: id! };
    expect(last[0]!.toString()).toBe(sseEventChunk(event, id).toString());
    expect(last[0]!.toString()).toBe(
      `id: ${id}\ndata: {"json":{"id":"${id}","type":"message","channel":"chat:room","payload":{"text":"hi"},"ts":1}}\n\n`,
    );
    // The WebSocket subscriber still gets a WebSocket frame (0x81: text, final), not an SSE chunk.
    expect(ws.frames.at(-1)![0]).toBe(0x81);
    for (const detach of detaches) detach();
    fanout.detach(wsSubscription);
    await broker.close();
  });
});
