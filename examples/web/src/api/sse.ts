import { ApiError, errorFromResponse, rawFetch } from './http';
import type { Message, StreamEvent } from './types';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Incremental parser for `text/event-stream` (WHATWG rules): lines end in
 * \n, \r\n or \r; `field:value` with at most one optional space after the
 * colon (the server may write `data:` with no space); comment lines start
 * with `:`; a blank line dispatches; several `data` lines join with \n.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private hasData = false;
  private id: string | undefined;
  private pendingCR = false;

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCR) {
      // A \r ended the previous chunk: a following \n belongs to it.
      if (text.startsWith('\n')) text = text.slice(1);
      this.pendingCR = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      this.line(this.buffer.slice(start, i));
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** End of stream: an unterminated event is discarded, per the spec. */
  end(): void {
    this.buffer = '';
    this.reset();
  }

  private reset(): void {
    this.event = '';
    this.data = [];
    this.hasData = false;
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasData) this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
        break; // `retry` and unknown fields are ignored.
    }
  }
}

/** Maps a raw SSE event of the chat streams to a typed StreamEvent (null if unknown). */
export function toStreamEvent(e: SseEvent): StreamEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(e.data);
  } catch {
    return null;
  }
  const d = data as Record<string, unknown>;
  switch (e.event) {
    case 'message':
      // POST /chat/stream sends the stored message itself; accept {"message": …} too.
      return { type: 'message', message: (isMessage(d.message) ? d.message : d) as unknown as Message };
    case 'snapshot':
      return { type: 'snapshot', message: (isMessage(d.message) ? d.message : d) as unknown as Message };
    case 'delta':
      return { type: 'delta', message_id: String(d.message_id), text: String(d.text ?? '') };
    case 'done':
      return { type: 'done', message: d.message as Message, provider: String(d.provider ?? '') };
    case 'error':
      return {
        type: 'error',
        code: String(d.code ?? 'error'),
        message: String(d.message ?? 'The reply failed.'),
        message_id: typeof d.message_id === 'string' ? d.message_id : undefined,
      };
    default:
      return null;
  }
}

function isMessage(v: unknown): v is Message {
  return typeof v === 'object' && v !== null && 'id' in v && 'role' in v;
}

/** Reads a fetch Response body as an event stream, calling onEvent per chat event. */
export async function readEventStream(res: Response, onEvent: (e: StreamEvent) => void): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser((raw) => {
    const ev = toStreamEvent(raw);
    if (ev) onEvent(ev);
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.push(decoder.decode(value, { stream: true }));
  }
  parser.push(decoder.decode());
  parser.end();
}

/**
 * POST /chat/stream. Rejects with ApiError for HTTP errors raised before the
 * stream starts (validation, 409, 429, …); resolves when the stream ends.
 */
export async function postChatStream(
  sessionId: string,
  content: string,
  onEvent: (e: StreamEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await rawFetch('/chat/stream', {
    method: 'POST',
    body: { session_id: sessionId, content },
    accept: 'text/event-stream',
    signal,
  });
  if (!res.ok) throw await errorFromResponse(res);
  await readEventStream(res, onEvent);
}

/**
 * GET /chat/sessions/{id}/stream: re-attach to a running generation.
 * Resolves false when nothing runs (204).
 */
export async function attachChatStream(
  sessionId: string,
  onEvent: (e: StreamEvent) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const res = await rawFetch(`/chat/sessions/${encodeURIComponent(sessionId)}/stream`, {
    accept: 'text/event-stream',
    signal,
  });
  if (res.status === 204) return false;
  if (!res.ok) throw await errorFromResponse(res);
  await readEventStream(res, onEvent);
  return true;
}

export { ApiError };
