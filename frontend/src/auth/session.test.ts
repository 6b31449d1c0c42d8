import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import {
  REFRESH_TOKEN_KEY,
  configureRefresh,
  endSession,
  getFreshAccessToken,
  hasStoredSession,
  startSession,
} from './session';

afterEach(() => {
  endSession();
  vi.useRealTimers();
});

describe('session', () => {
  it('keeps only the refresh token in localStorage', () => {
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-1');
    expect(JSON.stringify({ ...localStorage })).not.toContain('access-1');
  });

  it('returns the access token while it is fresh', async () => {
    const refresh = vi.fn();
    configureRefresh(refresh);
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    await expect(getFreshAccessToken()).resolves.toBe('access-1');
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes once for concurrent callers near expiry', async () => {
    const refresh = vi.fn().mockResolvedValue({ access_token: 'access-2', refresh_token: 'refresh-2', expires_in: 900 });
    configureRefresh(refresh);
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 30 });
    const tokens = await Promise.all([getFreshAccessToken(), getFreshAccessToken()]);
    expect(tokens).toEqual(['access-2', 'access-2']);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith('refresh-1');
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-2');
  });

  it('restores a session from the stored refresh token', async () => {
    localStorage.setItem(REFRESH_TOKEN_KEY, 'stored');
    configureRefresh(vi.fn().mockResolvedValue({ access_token: 'access-3', refresh_token: 'stored-2', expires_in: 900 }));
    await expect(getFreshAccessToken()).resolves.toBe('access-3');
  });

  it('ends the session when the API rejects the refresh token', async () => {
    localStorage.setItem(REFRESH_TOKEN_KEY, 'revoked');
    configureRefresh(vi.fn().mockRejectedValue(new ApiError(401, { detail: 'expired' })));
    await expect(getFreshAccessToken()).rejects.toThrow('expired');
    expect(hasStoredSession()).toBe(false);
  });

  it('refreshes on a timer before the access token expires', async () => {
    vi.useFakeTimers();
    const refresh = vi.fn().mockResolvedValue({ access_token: 'access-2', refresh_token: 'refresh-2', expires_in: 900 });
    configureRefresh(refresh);
    startSession({ access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    await vi.advanceTimersByTimeAsync(839_000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});
