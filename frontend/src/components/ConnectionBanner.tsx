import { useConnection } from '../lib/connection';

/** Renders a strip while the server is unreachable; it overlays the page, so it never moves content. */
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
