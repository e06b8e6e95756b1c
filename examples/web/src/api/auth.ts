import { request } from './http';
import type { AuthResponse, User } from './types';

export interface RegisterInput {
  email: string;
  password: string;
  username?: string;
}

export function register(input: RegisterInput): Promise<AuthResponse> {
  const body: Record<string, string> = { email: input.email, password: input.password };
  if (input.username) body.username = input.username;
  return request<AuthResponse>('/auth/register', { method: 'POST', body, auth: false });
}

export function login(email: string, password: string): Promise<AuthResponse> {
  return request<AuthResponse>('/auth/login', { method: 'POST', body: { email, password }, auth: false });
}

export function me(): Promise<User> {
  return request<User>('/auth/me');
}

export function refresh(): Promise<AuthResponse> {
  return request<AuthResponse>('/auth/refresh', { method: 'POST' });
}
