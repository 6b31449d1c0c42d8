import { useConnection } from '../lib/connection';

/** A strip that says when the server is unreachable; it takes no space while all is well. */
export function ConnectionBanner() {
  const connection = useConnection();
  return (
    <div role="status" aria-live="polite" className={connection.down ? 'connection-banner down' : 'connection-banner'}>
      {connection.down
        ? !connection.online
          ? 'You are offline. Live updates resume when the connection returns.'
          : 'Connection to the server lost. Reconnecting…'
        : null}
    </div>
  );
}
