import { afterEach, describe, expect, it, vi } from 'vitest';
import { postChatStream, SseParser, type SseEvent } from './sse';
import type { StreamEvent } from './types';
import { ApiError } from './http';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => out.push(e));
  chunks.forEach((c) => p.push(c));
  p.end();
  return out;
}

afterEach(() => vi.unstubAllGlobals());

describe('SseParser', () => {
  it('accepts data: with and without the space', () => {
    expect(parse(['event: delta\ndata: {"a":1}\n\nevent:delta\ndata:{"a":2}\n\n'])).toEqual([
      { event: 'delta', data: '{"a":1}', id: undefined },
      { event: 'delta', data: '{"a":2}', id: undefined },
    ]);
  });

  it('handles CRLF, CR, comments, multi-line data and split chunks', () => {
    const events = parse([': keep-alive\r\n', 'event: mess', 'age\r', '\ndata: line1\r\ndata: li', 'ne2\r\n\r', '\n', 'data: x\r\r']);
    expect(events).toEqual([
      { event: 'message', data: 'line1\nline2', id: undefined },
      { event: 'message', data: 'x', id: undefined },
    ]);
  });

  it('drops an unterminated last event and events without data', () => {
    expect(parse(['event: done\n\n', 'event: delta\ndata: {"partial":'])).toEqual([]);
  });

  it('keeps a leading space beyond the first one', () => {
    expect(parse(['data:  two spaces\n\n'])[0].data).toBe(' two spaces');
  });
});

function streamOf(chunks: string[]): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      chunks.forEach((s) => c.enqueue(enc.encode(s)));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

describe('postChatStream', () => {
  it('posts the message and maps the events', async () => {
    const user = { id: 'u', session_id: 's', role: 'user', content: 'hi', timestamp: 't', status: 'complete' };
    const fetch = vi.fn(async () =>
      streamOf([
        `event: message\ndata:${JSON.stringify(user)}\n\n`,
        'event: delta\ndata:{"message_id":"a","text":"Hel',
        'lo"}\n\nevent: delta\ndata: {"message_id":"a","text":" 😀"}\n\n',
        'event: done\ndata:{"message":{"id":"a","content":"Hello 😀","status":"complete"},"provider":"offline"}\n\n',
      ]),
    );
    vi.stubGlobal('fetch', fetch);
    const events: StreamEvent[] = [];
    await postChatStream('s', 'hi', (e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['message', 'delta', 'delta', 'done']);
    expect(events[1]).toEqual({ type: 'delta', message_id: 'a', text: 'Hello' });
    expect(events[2]).toEqual({ type: 'delta', message_id: 'a', text: ' 😀' });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/chat/stream');
    expect(JSON.parse(String(init.body))).toEqual({ session_id: 's', content: 'hi' });
  });

  it('rejects with the API error raised before the stream', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: { code: 'conflict', message: 'busy' } }), { status: 409 })),
    );
    await expect(postChatStream('s', 'hi', () => {})).rejects.toMatchObject({ status: 409, code: 'conflict' });
    await expect(postChatStream('s', 'hi', () => {})).rejects.toBeInstanceOf(ApiError);
  });
});
