import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { login as loginRequest, refreshTokens } from '../api/auth';
import {
  configureRefresh,
  endSession,
  hasAccessToken,
  hasStoredSession,
  refreshAccessToken,
  startSession,
  subscribe,
} from './session';

type AuthStatus = 'restoring' | 'signed-in' | 'signed-out';

interface AuthContextValue {
  status: AuthStatus;
  login: (email: string, password: string) => Promise<void>;
  logout: () => void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

configureRefresh(refreshTokens);

/** Restores the session from the stored refresh token on load and tracks sign-in state. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const signedIn = useSyncExternalStore(subscribe, hasStoredSession);
  const [restoring, setRestoring] = useState(() => hasStoredSession() && !hasAccessToken());

  useEffect(() => {
    if (!restoring) return;
    refreshAccessToken()
      .catch(() => null)
      .finally(() => setRestoring(false));
  }, [restoring]);

  let status: AuthStatus = signedIn ? 'signed-in' : 'signed-out';
  if (restoring) status = 'restoring';
  const value: AuthContextValue = {
    status,
    async login(email, password) {
      startSession(await loginRequest(email, password));
    },
    logout() {
      endSession();
      queryClient.clear();
    },
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth must be used inside <AuthProvider>');
  return value;
}
