import type { ClientFrame, ServerFrame } from './types';

/**
 * - `connecting`: first attempt in progress (callers wait before falling back)
 * - `open`: authenticated (`ready` received)
 * - `down`: not connected, reconnecting with backoff (callers use SSE meanwhile)
 * - `closed`: stopped on purpose (logout) or auth rejected
 */
export type SocketStatus = 'connecting' | 'open' | 'down' | 'closed';

export interface ChatSocketOptions {
  url: string;
  getToken: () => string | null;
  onFrame: (frame: ServerFrame) => void;
  /** connection counts authenticated connections: it changes on each new `ready` after a (re)connect. */
  onStatus: (status: SocketStatus, connection: number) => void;
  /** The server closed with 4401 (token missing, invalid or expired). */
  onAuthRejected?: () => void;
  WebSocketImpl?: typeof WebSocket;
  pingIntervalMs?: number;
  authTimeoutMs?: number;
  maxBackoffMs?: number;
}

export function defaultSocketUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export function backoffDelay(attempt: number, maxMs = 15000, random: () => number = Math.random): number {
  const base = Math.min(maxMs, 500 * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

/** The /ws client: auth handshake, heartbeat, reconnect with exponential backoff. */
export class ChatSocket {
  private ws: WebSocket | null = null;
  private status: SocketStatus = 'closed';
  private connection = 0;
  private attempt = 0;
  private authed = false;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private authTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly opts: ChatSocketOptions;
  private readonly onOnline = () => {
    if (this.status === 'down') this.reconnectNow();
  };

  constructor(opts: ChatSocketOptions) {
    this.opts = opts;
  }

  get currentStatus(): SocketStatus {
    return this.status;
  }

  get isOpen(): boolean {
    return this.status === 'open' && this.ws?.readyState === 1;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
    this.setStatus('connecting');
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        // ignore
      }
    }
    this.setStatus('closed');
  }

  /** Sends a frame if the socket is authenticated; false otherwise. */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen || !this.ws) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Re-authenticates the open socket with a fresh token (after /auth/refresh). */
  reauth(token: string): boolean {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify({ type: 'auth', token } satisfies ClientFrame));
    return true;
  }

  reconnectNow(): void {
    if (this.stopped) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempt = 0;
    this.open();
  }

  private setStatus(status: SocketStatus): void {
    if (this.status === status && status !== 'open') return;
    this.status = status;
    this.opts.onStatus(status, this.connection);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = this.authTimer = this.pingTimer = null;
  }

  private open(): void {
    const token = this.opts.getToken();
    if (!token) {
      this.stop();
      return;
    }
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Impl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.authed = false;
    ws.onopen = () => {
      const t = this.opts.getToken();
      if (!t) {
        this.stop();
        return;
      }
      ws.send(JSON.stringify({ type: 'auth', token: t } satisfies ClientFrame));
      this.authTimer = setTimeout(() => ws.close(4000, 'auth timeout'), this.opts.authTimeoutMs ?? 10000);
    };
    ws.onmessage = (ev: MessageEvent) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'ready' && !this.authed) {
        this.authed = true;
        this.attempt = 0;
        if (this.authTimer) clearTimeout(this.authTimer);
        this.authTimer = null;
        this.connection += 1;
        this.startPing();
        this.setStatus('open');
      }
      this.opts.onFrame(frame);
    };
    ws.onerror = () => {
      // onclose follows and handles the reconnect.
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.authed = false;
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.authTimer) clearTimeout(this.authTimer);
      this.pingTimer = this.authTimer = null;
      if (this.stopped) return;
      if (ev.code === 4401) {
        this.stopped = true;
        this.setStatus('closed');
        this.opts.onAuthRejected?.();
        return;
      }
      this.scheduleReconnect();
    };
  }

  private startPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.send({ type: 'ping' });
    }, this.opts.pingIntervalMs ?? 25000);
  }

  private scheduleReconnect(): void {
    this.setStatus('down');
    const delay = backoffDelay(this.attempt, this.opts.maxBackoffMs ?? 15000);
    this.attempt += 1;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}
