// Wire types of the chatcore HTTP / WebSocket contract (docs/API.md at the repository root).

export interface User {
  id: string;
  username: string;
  email: string;
  created_at: string;
}

export interface AuthResponse {
  access_token: string;
  token_type: string;
  expires_at: string;
  user: User;
}

export interface Session {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
}

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'interrupted' | 'error';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Message {
  id: string;
  session_id: string;
  role: MessageRole;
  content: string;
  timestamp: string;
  status: MessageStatus;
  provider: string | null;
  model: string | null;
  usage: Usage | null;
  /** Client-only: an optimistic user message not yet confirmed by the server. */
  pending?: boolean;
  /** Client-only: the request id of an optimistic message. */
  client_request_id?: string;
}

export interface SessionWithMessages {
  session: Session;
  messages: Message[];
}

export interface ProviderHealth {
  name: string;
  model: string;
  state: 'ok' | 'cooling_down' | string;
}

export interface Health {
  status: string;
  database: string;
  providers: ProviderHealth[];
}

export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    fields?: Record<string, string>;
  };
}

/** Frames the server sends over /ws. */
export type ServerFrame =
  | { type: 'ready'; user: User; expires_at: string }
  | { type: 'message'; request_id?: string; message: Message }
  | { type: 'snapshot'; session_id: string; message: Message }
  | { type: 'delta'; request_id?: string; session_id: string; message_id: string; text: string }
  | { type: 'done'; request_id?: string; session_id: string; message: Message; provider: string }
  | { type: 'error'; request_id?: string; code: string; message: string; session_id?: string; message_id?: string }
  | { type: 'session_updated'; session: Session }
  | { type: 'session_deleted'; session_id: string }
  | { type: 'token_expiring'; expires_at: string }
  | { type: 'pong' };

/** Frames the client sends over /ws. */
export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'send'; request_id: string; session_id: string; content: string }
  | { type: 'stop'; session_id: string }
  | { type: 'subscribe'; session_id: string }
  | { type: 'ping' };

/** Events of the SSE streams (POST /chat/stream, GET /chat/sessions/{id}/stream). */
export type StreamEvent =
  | { type: 'message'; message: Message }
  | { type: 'snapshot'; message: Message }
  | { type: 'delta'; message_id: string; text: string }
  | { type: 'done'; message: Message; provider: string }
  | { type: 'error'; code: string; message: string; message_id?: string };
