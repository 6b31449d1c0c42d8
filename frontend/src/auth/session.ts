// The signed-in session: the access token lives only in memory, the refresh
// token in localStorage so that a reload or a new tab stays signed in.
//
// Tokens are refreshed a minute before the access token expires. Tabs share
// the refresh token, and a Web Lock makes them refresh one at a time, because
// a refresh may rotate the refresh token and invalidate the old one.

export const REFRESH_TOKEN_KEY = 'sct.refresh_token';
const REFRESH_MARGIN_S = 60;
const REFRESH_LOCK = 'sct.refresh';

export interface TokenSet {
  access_token: string;
  refresh_token: string;
  /** Lifetime of the access token in seconds. */
  expires_in: number;
}

/** Exchanges a refresh token for new tokens; rejects with ApiError when the API refuses it. */
export type RefreshFunction = (refreshToken: string) => Promise<TokenSet>;

type Listener = () => void;

let accessToken: string | null = null;
let accessExpiresAt = 0;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshInFlight: Promise<string | null> | null = null;
let refreshFunction: RefreshFunction | null = null;
const listeners = new Set<Listener>();

/** Sets the function that calls the API's refresh route (set once at start, replaced in tests). */
export function configureRefresh(refresh: RefreshFunction): void {
  refreshFunction = refresh;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}

/** Reports whether this tab has an access token, so that restoring the session needs no refresh. */
export function hasAccessToken(): boolean {
  return accessToken !== null;
}

export function hasStoredSession(): boolean {
  return accessToken !== null || readRefreshToken() !== null;
}

function readRefreshToken(): string | null {
  try {
    return localStorage.getItem(REFRESH_TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Stores a new token set and schedules its refresh. */
export function startSession(tokens: TokenSet): void {
  accessToken = tokens.access_token;
  accessExpiresAt = Date.now() + tokens.expires_in * 1000;
  localStorage.setItem(REFRESH_TOKEN_KEY, tokens.refresh_token);
  scheduleRefresh(tokens.expires_in);
  notify();
}

/** Forgets every token, in this tab and (through the storage event) in the others. */
export function endSession(): void {
  accessToken = null;
  accessExpiresAt = 0;
  clearTimeout(refreshTimer);
  localStorage.removeItem(REFRESH_TOKEN_KEY);
  notify();
}

function scheduleRefresh(expiresInSeconds: number): void {
  clearTimeout(refreshTimer);
  const delayMs = Math.max(expiresInSeconds - REFRESH_MARGIN_S, expiresInSeconds / 2, 1) * 1000;
  refreshTimer = setTimeout(() => {
    void refreshAccessToken().catch(() => undefined);
  }, delayMs);
}

/**
 * Returns a valid access token, refreshing it first when it expires within the
 * margin. Returns null when there is no session or the refresh was rejected.
 */
export async function getFreshAccessToken(): Promise<string | null> {
  if (accessToken && Date.now() < accessExpiresAt - REFRESH_MARGIN_S * 1000) return accessToken;
  if (!readRefreshToken()) return null;
  return refreshAccessToken();
}

/** Refreshes the tokens once, however many callers ask at the same time. */
export function refreshAccessToken(): Promise<string | null> {
  refreshInFlight ??= withRefreshLock(runRefresh).finally(() => {
    refreshInFlight = null;
  });
  return refreshInFlight;
}

async function runRefresh(): Promise<string | null> {
  const refreshToken = readRefreshToken();
  if (!refreshToken || !refreshFunction) return null;
  try {
    const tokens = await refreshFunction(refreshToken);
    startSession(tokens);
    return tokens.access_token;
  } catch (error) {
    // A rejected refresh token ends the session; a network failure keeps it
    // so that the next request tries again.
    if (error instanceof Error && error.name === 'ApiError') endSession();
    throw error;
  }
}

function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request(REFRESH_LOCK, work) as unknown as Promise<T>;
  }
  return work();
}

// Another tab that logs out removes the refresh token; this tab follows.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key === REFRESH_TOKEN_KEY && event.newValue === null && accessToken !== null) {
      accessToken = null;
      clearTimeout(refreshTimer);
      notify();
    }
  });
}
