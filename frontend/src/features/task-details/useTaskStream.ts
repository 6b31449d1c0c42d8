import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { TaskEventStream, type ConnectionState, type Transport } from '../../api/stream';
import { TERMINAL_STATUSES, type TaskDetail } from '../../api/types';
import { reportStreamState } from '../../lib/connection';
import { applyStreamEvent, sampleOf, type ProgressSample } from './liveTask';

const MAX_SAMPLES = 2000;

/**
 * Follows a task's live events while it is not finished: updates the cached
 * task in place and collects progress samples for the charts.
 */
export function useTaskStream(taskId: string, enabled: boolean) {
  const queryClient = useQueryClient();
  const [samples, setSamples] = useState<ProgressSample[]>([]);
  const [connection, setConnection] = useState<{ state: ConnectionState; transport: Transport } | null>(null);
  const queryKey = useRef(['task', taskId]);
  queryKey.current = ['task', taskId];

  useEffect(() => {
    if (!enabled) return undefined;
    const streamId = `task:${taskId}:${crypto.randomUUID()}`;
    const isFinished = () => {
      const task = queryClient.getQueryData<TaskDetail>(queryKey.current);
      return task !== undefined && TERMINAL_STATUSES.includes(task.status);
    };
    const stream = new TaskEventStream({
      taskId,
      isFinished,
      onEvent: (event) => {
        queryClient.setQueryData<TaskDetail>(queryKey.current, (task) => applyStreamEvent(task, event));
        const sample = sampleOf(event);
        if (sample) setSamples((current) => [...current, sample].slice(-MAX_SAMPLES));
        // A status change brings figures and results the events do not carry.
        if (event.type === 'status') void queryClient.invalidateQueries({ queryKey: queryKey.current });
      },
      onStateChange: (state, detail) => {
        setConnection({ state, transport: detail.transport });
        reportStreamState(streamId, state);
      },
    });
    stream.start();
    return () => {
      stream.stop();
      reportStreamState(streamId, 'closed');
    };
  }, [taskId, enabled, queryClient]);

  return { samples, connection };
}
