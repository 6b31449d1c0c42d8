// Live events of one task over WebSocket, falling back to Server-Sent Events,
// reconnecting with backoff after a drop.
//
// Both transports authenticate with a stream token in the URL because
// browsers cannot set headers on them. The token lives about a minute, so
// every connect and reconnect requests a new one.
import { apiOrigin } from './client';
import { createStreamToken } from './tasks';

export type StreamEventType = 'snapshot' | 'progress' | 'status' | 'heartbeat';
export type Transport = 'websocket' | 'sse';
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StreamEvent {
  type: StreamEventType | string;
  data: unknown;
  id?: string;
}

export interface TaskStreamOptions {
  taskId: string;
  onEvent: (event: StreamEvent) => void;
  onStateChange?: (state: ConnectionState, detail: { transport: Transport; attempt: number }) => void;
  /** Stops reconnecting once this returns true (the task reached a final status). */
  isFinished?: () => boolean;
  getToken?: (taskId: string) => Promise<string>;
  webSocketFactory?: (url: string) => WebSocket;
  eventSourceFactory?: (url: string) => EventSource;
}

const SSE_EVENT_TYPES: StreamEventType[] = ['snapshot', 'progress', 'status', 'heartbeat'];
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];
// The API sends a heartbeat every few seconds; this much silence means a dead connection.
const SILENCE_LIMIT_MS = 30_000;

export class TaskEventStream {
  private readonly options: TaskStreamOptions;
  private transport: Transport = 'websocket';
  private socket: WebSocket | null = null;
  private source: EventSource | null = null;
  private attempt = 0;
  /** Id of the last message received: a reconnect resumes after it. */
  private lastEventId: string | undefined;
  private stopped = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOnline = () => this.reconnectNow();

  constructor(options: TaskStreamOptions) {
    this.options = options;
    if (typeof WebSocket === 'undefined') this.transport = 'sse';
  }

  start(): void {
    window.addEventListener('online', this.onOnline);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.silenceTimer);
    this.closeTransports();
    this.setState('closed');
  }

  get currentTransport(): Transport {
    return this.transport;
  }

  private setState(state: ConnectionState): void {
    this.options.onStateChange?.(state, { transport: this.transport, attempt: this.attempt });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await (this.options.getToken ?? createStreamToken)(this.options.taskId);
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    if (this.transport === 'websocket') this.openWebSocket(token);
    else this.openEventSource(token);
  }

  private streamUrl(path: 'ws' | 'events', token: string): string {
    const url = new URL(`/query/v1/tasks/${encodeURIComponent(this.options.taskId)}/${path}`, apiOrigin());
    url.searchParams.set('stream_token', token);
    // Both routes take the resume cursor as a parameter, because a new
    // EventSource cannot set the Last-Event-ID header.
    if (this.lastEventId) url.searchParams.set('last_event_id', this.lastEventId);
    if (path === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  }

  private openWebSocket(token: string): void {
    const url = this.streamUrl('ws', token);
    const socket = this.options.webSocketFactory?.(url) ?? new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.markOpen();
    };
    socket.onmessage = (message) => {
      try {
        const parsed = JSON.parse(String(message.data)) as StreamEvent;
        this.deliver(parsed);
      } catch {
        // A frame that is not JSON is not part of the protocol; skip it.
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!opened) {
        // The WebSocket never opened (a proxy without upgrade support, a
        // blocked port): use Server-Sent Events from now on.
        this.transport = 'sse';
        void this.connect();
        return;
      }
      this.scheduleReconnect();
    };
  }

  private openEventSource(token: string): void {
    const url = this.streamUrl('events', token);
    const source = this.options.eventSourceFactory?.(url) ?? new EventSource(url);
    this.source = source;
    source.onopen = () => this.markOpen();
    const handle = (message: MessageEvent) => {
      let data: unknown = message.data;
      try {
        data = JSON.parse(String(message.data));
      } catch {
        // Plain-text data stays a string.
      }
      this.deliver({ type: message.type === 'message' ? 'progress' : message.type, data, id: message.lastEventId });
    };
    for (const type of SSE_EVENT_TYPES) source.addEventListener(type, handle as EventListener);
    source.onmessage = handle;
    source.onerror = () => {
      // EventSource would retry with the same, soon expired, token; reconnect
      // with a new token instead.
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.scheduleReconnect();
    };
  }

  private markOpen(): void {
    this.attempt = 0;
    this.setState('open');
    this.armSilenceTimer();
  }

  private deliver(event: StreamEvent): void {
    this.armSilenceTimer();
    if (event.id) this.lastEventId = event.id;
    this.options.onEvent(event);
    if (this.options.isFinished?.()) this.stop();
  }

  private armSilenceTimer(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.reconnectNow(), SILENCE_LIMIT_MS);
  }

  private closeTransports(): void {
    const socket = this.socket;
    const source = this.source;
    this.socket = null;
    this.source = null;
    socket?.close();
    source?.close();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    if (this.options.isFinished?.()) {
      this.stop();
      return;
    }
    clearTimeout(this.silenceTimer);
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 10_000;
    this.attempt += 1;
    this.setState('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private reconnectNow(): void {
    if (this.stopped) return;
    this.closeTransports();
    clearTimeout(this.reconnectTimer);
    this.attempt += 1;
    void this.connect();
  }
}
