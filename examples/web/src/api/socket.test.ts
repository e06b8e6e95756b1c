import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/helpers';
import { backoffDelay, ChatSocket, type SocketStatus } from './socket';
import type { ServerFrame } from './types';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

function make(token = 't1') {
  const frames: ServerFrame[] = [];
  const statuses: [SocketStatus, number][] = [];
  const onAuthRejected = vi.fn();
  let tok = token;
  const socket = new ChatSocket({
    url: 'ws://x/ws',
    getToken: () => tok,
    onFrame: (f) => frames.push(f),
    onStatus: (s, c) => statuses.push([s, c]),
    onAuthRejected,
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
  });
  return { socket, frames, statuses, onAuthRejected, setToken: (t: string) => (tok = t) };
}

const ready = { type: 'ready', user: { id: 'u' }, expires_at: '2026-11-22T03:00:00Z' };

describe('ChatSocket', () => {
  it('authenticates first, then is open', () => {
    const { socket, statuses } = make();
    socket.start();
    const ws = FakeWebSocket.last;
    expect(ws.url).toBe('ws://x/ws');
    ws.accept();
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 't1' });
    expect(socket.isOpen).toBe(false);
    ws.push(ready);
    expect(socket.isOpen).toBe(true);
    expect(statuses.at(-1)).toEqual(['open', 1]);
    expect(socket.send({ type: 'subscribe', session_id: 's' })).toBe(true);
    expect(ws.sent[1]).toEqual({ type: 'subscribe', session_id: 's' });
  });

  it('reconnects with backoff after a drop and re-authenticates', () => {
    const { socket, statuses } = make();
    socket.start();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.push(ready);
    FakeWebSocket.last.drop();
    expect(statuses.at(-1)?.[0]).toBe('down');
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last.drop(); // fails again: longer wait
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(600);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last.accept();
    FakeWebSocket.last.push(ready);
    expect(statuses.at(-1)).toEqual(['open', 2]);
  });

  it('re-auth on the open socket sends a fresh auth frame without reconnecting', () => {
    const { socket, statuses } = make();
    socket.start();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.push(ready);
    expect(socket.reauth('t2')).toBe(true);
    expect(FakeWebSocket.last.sent.at(-1)).toEqual({ type: 'auth', token: 't2' });
    FakeWebSocket.last.push(ready);
    expect(statuses.filter(([s]) => s === 'open')).toHaveLength(1);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('4401 stops reconnecting and reports the rejection', () => {
    const { socket, onAuthRejected } = make();
    socket.start();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(onAuthRejected).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(socket.currentStatus).toBe('closed');
  });

  it('pings while open', () => {
    const { socket } = make();
    socket.start();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.push(ready);
    vi.advanceTimersByTime(25_000);
    expect(FakeWebSocket.last.sent.at(-1)).toEqual({ type: 'ping' });
    socket.stop();
  });

  it('backoff grows and is capped', () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, 15000, mid)).toBe(375);
    expect(backoffDelay(3, 15000, mid)).toBe(3000);
    expect(backoffDelay(20, 15000, mid)).toBe(11250);
  });
});
