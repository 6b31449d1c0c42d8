// Names the rest of the app uses for the generated API types, so that a
// renamed schema in a regenerated document changes only this file.
import type { components as CommandComponents } from './generated/command';
import type { components as QueryComponents } from './generated/query';

type CommandSchemas = CommandComponents['schemas'];
type QuerySchemas = QueryComponents['schemas'];

export type TaskCreate = CommandSchemas['TaskCreate'];
export type TaskAccepted = CommandSchemas['TaskAccepted'];
export type Method = NonNullable<TaskCreate['method']>;
export type GeneratorSpec = CommandSchemas['GeneratorSpec'];
export type GeneratorKind = GeneratorSpec['kind'];
export type TokenResponse = CommandSchemas['TokenPair'];
export type CancelResponse = CommandSchemas['CancelAccepted'] | CommandSchemas['CancelNoop'];

export type TaskSummary = QuerySchemas['TaskSummary'];
export type TaskDetail = QuerySchemas['TaskDetail'];
export type TaskPage = QuerySchemas['TaskPage'];
export type StreamToken = QuerySchemas['StreamToken'];

/** Statuses of a task; the API documents them in words, not as an enum. */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A failed task's reason: `code` for programs, `message` for people. */
export interface TaskError {
  code?: string;
  message?: string;
}

export const METHODS: readonly Method[] = ['auto', 'lu', 'cholesky', 'lstsq', 'splu', 'cg', 'gmres', 'bicgstab'];
export const ITERATIVE_METHODS: readonly string[] = ['cg', 'gmres', 'bicgstab', 'lstsq-lsmr'];
export const GENERATOR_KINDS: readonly GeneratorKind[] = [
  'random_dense',
  'random_spd',
  'diagonally_dominant',
  'poisson2d',
  'hilbert',
];
export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const TERMINAL_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled'];
export const RESULT_FORMATS = ['json', 'csv', 'npy', 'mtx'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];
