// Names the rest of the app uses for the generated API types, so that a
// renamed schema in a regenerated document changes only this file.
import type { components as CommandComponents } from './generated/command';
import type { components as QueryComponents } from './generated/query';

export type TaskCreate = CommandComponents['schemas']['TaskCreate'];
export type TaskAccepted = CommandComponents['schemas']['TaskAccepted'];
export type Method = CommandComponents['schemas']['Method'];
export type GeneratorSpec = CommandComponents['schemas']['GeneratorSpec'];
export type GeneratorKind = GeneratorSpec['kind'];
export type TokenResponse = CommandComponents['schemas']['TokenResponse'];
export type CancelResponse = CommandComponents['schemas']['CancelResponse'];

export type TaskStatus = QueryComponents['schemas']['TaskStatus'];
export type TaskSummary = QueryComponents['schemas']['TaskSummary'];
export type TaskDetail = QueryComponents['schemas']['TaskDetail'];
export type TaskPage = QueryComponents['schemas']['TaskPage'];

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
