import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskEventStream, type ConnectionState, type StreamEvent } from './stream';

// Minimal stand-ins for the browser's WebSocket and EventSource that tests drive by hand.
class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close() {
    this.closed = true;
  }
}

class FakeSource {
  onopen: (() => void) | null = null;
  onmessage: ((message: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  listeners = new Map<string, (message: MessageEvent) => void>();
  closed = false;
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (message: MessageEvent) => void) {
    this.listeners.set(type, listener);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown, id = '') {
    this.listeners.get(type)?.(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id }));
  }
}

function setup(finished = () => false) {
  const sockets: FakeSocket[] = [];
  const sources: FakeSource[] = [];
  const events: StreamEvent[] = [];
  const states: ConnectionState[] = [];
  let tokenCount = 0;
  const stream = new TaskEventStream({
    taskId: 'task-1',
    onEvent: (event) => events.push(event),
    onStateChange: (state) => states.push(state),
    isFinished: finished,
    getToken: async () => `token-${++tokenCount}`,
    webSocketFactory: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket as unknown as WebSocket;
    },
    eventSourceFactory: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source as unknown as EventSource;
    },
  });
  return { stream, sockets, sources, events, states };
}

afterEach(() => vi.useRealTimers());

describe('TaskEventStream', () => {
  it('opens a WebSocket with a stream token and delivers messages', async () => {
    const { stream, sockets, events, states } = setup();
    stream.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    expect(sockets[0]!.url).toMatch(/^ws:\/\/.*\/query\/v1\/tasks\/task-1\/ws\?stream_token=token-1$/);
    sockets[0]!.onopen?.();
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'progress', data: { fraction: 0.5 }, id: '7' }) });
    expect(events).toEqual([{ type: 'progress', data: { fraction: 0.5 }, id: '7' }]);
    expect(states).toContain('open');
    stream.stop();
  });

  it('falls back to SSE when the WebSocket never opens', async () => {
    const { stream, sockets, sources, events } = setup();
    stream.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.onclose?.();
    await vi.waitFor(() => expect(sources).toHaveLength(1));
    expect(sources[0]!.url).toMatch(/\/query\/v1\/tasks\/task-1\/events\?stream_token=token-2$/);
    sources[0]!.onopen?.();
    sources[0]!.emit('snapshot', { status: 'running' }, '3.5');
    expect(events).toEqual([{ type: 'snapshot', data: { status: 'running' }, id: '3.5' }]);
    expect(stream.currentTransport).toBe('sse');

    sources[0]!.onerror?.();
    expect(sources[0]!.closed).toBe(true);
    await vi.waitFor(() => expect(sources).toHaveLength(2), { timeout: 2000 });
    expect(sources[1]!.url).toContain('stream_token=token-3');
    expect(sources[1]!.url).toContain('last_event_id=3.5');
    stream.stop();
  });

  it('reconnects with a new token after a drop', async () => {
    vi.useFakeTimers();
    const { stream, sockets, states } = setup();
    stream.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.onopen?.();
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'progress', data: {}, id: '4.17' }) });
    sockets[0]!.onclose?.();
    expect(states.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(600);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]!.url).toContain('stream_token=token-2');
    expect(sockets[1]!.url).toContain('last_event_id=4.17');
    sockets[1]!.onopen?.();
    expect(states.at(-1)).toBe('open');
    stream.stop();
  });

  it('reconnects when the server goes silent', async () => {
    vi.useFakeTimers();
    const { stream, sockets } = setup();
    stream.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.onopen?.();
    await vi.advanceTimersByTimeAsync(31_000);
    expect(sockets[0]!.closed).toBe(true);
    expect(sockets).toHaveLength(2);
    stream.stop();
  });

  it('stops once the task is finished', async () => {
    let finished = false;
    const { stream, sockets, states } = setup(() => finished);
    stream.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.onopen?.();
    finished = true;
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'status', data: { status: 'completed' } }) });
    expect(states.at(-1)).toBe('closed');
    expect(sockets[0]!.closed).toBe(true);
  });
});
