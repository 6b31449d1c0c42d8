// Task commands and queries: the only module that calls the tasks' routes.
import { commandClient, queryClientApi, unwrap } from './client';
import type { Method, ResultFormat, TaskAccepted, TaskCreate, TaskDetail, TaskPage, TaskStatus } from './types';

export interface UploadFields {
  a: File;
  b: File;
  method: Method;
  tol?: number;
  maxIter?: number;
  preconditioner?: 'jacobi' | 'ilu';
}

export interface TaskFilters {
  status?: TaskStatus;
  method?: string;
  submittedAfter?: string;
  submittedBefore?: string;
  cursor?: string;
  limit?: number;
}

/** Submits a task given inline or as a generator; the key makes a retried submit create one task. */
export async function submitTask(body: TaskCreate, idempotencyKey: string): Promise<TaskAccepted> {
  return unwrap(
    await commandClient.POST('/v1/tasks', { body, params: { header: { 'Idempotency-Key': idempotencyKey } } }),
  );
}

/** Submits a task with A and b as files (multipart upload). */
export async function uploadTask(fields: UploadFields, idempotencyKey: string): Promise<TaskAccepted> {
  const form = new FormData();
  form.append('a', fields.a, fields.a.name);
  form.append('b', fields.b, fields.b.name);
  form.append('method', fields.method);
  if (fields.tol !== undefined) form.append('tol', String(fields.tol));
  if (fields.maxIter !== undefined) form.append('max_iter', String(fields.maxIter));
  if (fields.preconditioner) form.append('preconditioner', fields.preconditioner);
  const result = await commandClient.POST('/v1/tasks/upload', {
    // The typed body only documents the fields; the FormData above is what is sent.
    body: {} as never,
    bodySerializer: () => form,
    params: { header: { 'Idempotency-Key': idempotencyKey } },
  });
  return unwrap(result);
}

export async function cancelTask(taskId: string) {
  return unwrap(await commandClient.POST('/v1/tasks/{task_id}/cancel', { params: { path: { task_id: taskId } } }));
}

/** Reads one task; a consistency token makes the API wait briefly for the projector. */
export async function getTask(taskId: string, consistencyToken?: string): Promise<TaskDetail> {
  const header = consistencyToken ? { 'X-Consistency-Token': consistencyToken } : {};
  return unwrap(await queryClientApi.GET('/v1/tasks/{task_id}', { params: { path: { task_id: taskId }, header } }));
}

export async function listTasks(filters: TaskFilters): Promise<TaskPage> {
  const query = {
    status: filters.status,
    method: filters.method || undefined,
    submitted_after: filters.submittedAfter || undefined,
    submitted_before: filters.submittedBefore || undefined,
    cursor: filters.cursor || undefined,
    limit: filters.limit,
  };
  return unwrap(await queryClientApi.GET('/v1/tasks', { params: { query } }));
}

export async function createStreamToken(taskId: string): Promise<string> {
  const data = unwrap(
    await queryClientApi.POST('/v1/tasks/{task_id}/stream-token', { params: { path: { task_id: taskId } } }),
  );
  return data.stream_token;
}

/** Downloads the solution x in one of the API's formats. */
export async function fetchResult(taskId: string, format: ResultFormat): Promise<Blob> {
  const result = await queryClientApi.GET('/v1/tasks/{task_id}/result', {
    params: { path: { task_id: taskId }, query: { format } },
    parseAs: 'blob',
  });
  return unwrap(result) as Blob;
}

/** Reads the solution x as numbers (the JSON format). */
export async function fetchSolution(taskId: string): Promise<number[]> {
  const blob = await fetchResult(taskId, 'json');
  const parsed: unknown = JSON.parse(await blob.text());
  if (Array.isArray(parsed)) return parsed as number[];
  const record = parsed as { x?: unknown; solution?: unknown };
  const values = record.x ?? record.solution;
  if (Array.isArray(values)) return values as number[];
  throw new Error('The result in JSON format has no array of values (expected a list or {"x": [...]}).');
}
