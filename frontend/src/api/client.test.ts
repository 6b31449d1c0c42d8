import { afterEach, describe, expect, it, vi } from 'vitest';
import { endSession, hasStoredSession, startSession } from '../auth/session';
import { jsonResponses } from '../test/render';
import { readMe } from './auth';
import { setUnauthorizedHandler } from './client';
import { ApiError, NetworkError } from './errors';

afterEach(() => {
  endSession();
  setUnauthorizedHandler(() => undefined);
  vi.unstubAllGlobals();
});

describe('API client', () => {
  it('sends the access token', async () => {
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    const server = jsonResponses({ status: 200, body: { user_id: 'u1', email: 'me@example.org' } });
    vi.stubGlobal('fetch', server.fetch);
    await expect(readMe()).resolves.toEqual({ user_id: 'u1', email: 'me@example.org' });
    expect(server.calls[0]!.headers.get('Authorization')).toBe('Bearer access-1');
  });

  it('ends the session and calls the handler on 401', async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    startSession({ access_token: 'revoked', refresh_token: 'refresh-1', expires_in: 900 });
    vi.stubGlobal('fetch', jsonResponses({ status: 401, body: { detail: 'token expired', code: 'not_authenticated' } }).fetch);
    await expect(readMe()).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(hasStoredSession()).toBe(false);
  });

  it('reports an unreachable server as NetworkError', async () => {
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    await expect(readMe()).rejects.toBeInstanceOf(NetworkError);
  });
});
