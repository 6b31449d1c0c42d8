import { useEffect, useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { cancelTask } from '../../api/tasks';

/** Renders a cancel button that requests confirmation before it sends the cancel command. */
export function CancelTask({ taskId, requested }: { taskId: string; requested: boolean }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  const cancel = useMutation({
    mutationFn: () => cancelTask(taskId),
    onSettled: () => {
      setConfirming(false);
      void queryClient.invalidateQueries({ queryKey: ['task', taskId] });
      void queryClient.invalidateQueries({ queryKey: ['tasks'] });
    },
  });

  // Focus moves into the question when it opens and back to the button when it closes.
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
    else if (returnFocus.current) cancelButton.current?.focus();
    returnFocus.current = confirming;
  }, [confirming]);

  if (requested || cancel.isSuccess) {
    return (
      <p className="notice" role="status">
        Cancellation requested; the task stops within about a second.
      </p>
    );
  }
  if (!confirming) {
    return (
      <button ref={cancelButton} type="button" className="danger" onClick={() => setConfirming(true)}>
        Cancel task
      </button>
    );
  }
  return (
    <div
      role="alertdialog"
      aria-labelledby="cancel-question"
      className="confirm"
      onKeyDown={(event) => {
        if (event.key === 'Escape') setConfirming(false);
      }}
    >
      <p id="cancel-question">Cancel this task? Work done so far is lost.</p>
      <button ref={confirmButton} type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
        Yes, cancel the task
      </button>
      <button type="button" className="secondary" onClick={() => setConfirming(false)}>
        Keep it running
      </button>
      {cancel.isError ? <p className="form-error">{cancel.error.message}</p> : null}
    </div>
  );
}
