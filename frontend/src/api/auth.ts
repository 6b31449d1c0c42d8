// Registration, login and token refresh against the command API.
import { commandClient, queryClientApi, unwrap } from './client';
import type { TokenResponse } from './types';

export async function register(email: string, password: string) {
  return unwrap(await commandClient.POST('/v1/auth/register', { body: { email, password } }));
}

/** Logs in with the OAuth2 password form (`username` is the e-mail). */
export async function login(email: string, password: string): Promise<TokenResponse> {
  const result = await commandClient.POST('/v1/auth/token', {
    body: { username: email, password },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  return unwrap(result);
}

export async function refreshTokens(refreshToken: string): Promise<TokenResponse> {
  return unwrap(await commandClient.POST('/v1/auth/refresh', { body: { refresh_token: refreshToken } }));
}

export async function readMe() {
  return unwrap(await queryClientApi.GET('/v1/me'));
}
