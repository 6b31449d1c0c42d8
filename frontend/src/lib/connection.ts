// Whether the app can reach the server right now, gathered from live streams,
// failed requests and the browser's online flag, for the banner in the layout.
import { useSyncExternalStore } from 'react';
import type { ConnectionState } from '../api/stream';

interface ConnectionSnapshot {
  online: boolean;
  /** Streams that lost their connection and are trying again. */
  reconnectingStreams: number;
  /** A request failed because the server could not be reached, and none succeeded since. */
  requestsFailing: boolean;
}

const streamStates = new Map<string, ConnectionState>();
let snapshot: ConnectionSnapshot = {
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  reconnectingStreams: 0,
  requestsFailing: false,
};
const listeners = new Set<() => void>();

function update(changes: Partial<ConnectionSnapshot>): void {
  const next = { ...snapshot, ...changes };
  if (
    next.online === snapshot.online &&
    next.reconnectingStreams === snapshot.reconnectingStreams &&
    next.requestsFailing === snapshot.requestsFailing
  ) {
    return;
  }
  snapshot = next;
  for (const listener of listeners) listener();
}

export function reportStreamState(streamId: string, state: ConnectionState): void {
  if (state === 'closed') streamStates.delete(streamId);
  else streamStates.set(streamId, state);
  const reconnecting = [...streamStates.values()].filter((value) => value === 'reconnecting').length;
  update({ reconnectingStreams: reconnecting });
}

export function reportRequestOutcome(reachedServer: boolean): void {
  update({ requestsFailing: !reachedServer });
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => update({ online: true }));
  window.addEventListener('offline', () => update({ online: false }));
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnection(): ConnectionSnapshot & { down: boolean } {
  const current = useSyncExternalStore(subscribe, () => snapshot);
  return { ...current, down: !current.online || current.reconnectingStreams > 0 || current.requestsFailing };
}
