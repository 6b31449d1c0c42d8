// One error type for every failed API call, with the API's message per form field.

/** One validation message, as FastAPI reports it in a 422 `detail` list. */
interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/** A failed API call: the HTTP status, the API's `detail` text and `code`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  /** Messages keyed by the request field they concern, and under `form` the rest. */
  readonly fieldErrors: Record<string, string>;

  constructor(status: number, body: unknown) {
    const { message, code, fieldErrors } = describeErrorBody(status, body);
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
  }
}

/** Raised when the browser could not reach the API at all. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('The server could not be reached. Check your connection; the page retries on its own.', { cause });
    this.name = 'NetworkError';
  }
}

function describeErrorBody(status: number, body: unknown) {
  const fieldErrors: Record<string, string> = {};
  const record = (body ?? {}) as { detail?: unknown; code?: unknown; field?: unknown; errors?: unknown };
  const code = typeof record.code === 'string' ? record.code : undefined;
  const detailText = typeof record.detail === 'string' && record.detail ? record.detail : undefined;

  // FastAPI's validation list: in `detail` by default, in `errors` where the
  // API replaces `detail` with one sentence.
  const validationList = Array.isArray(record.detail) ? record.detail : Array.isArray(record.errors) ? record.errors : null;
  if (validationList) {
    for (const item of validationList as ValidationItem[]) {
      const field = normalizeField(lastStringOf(item.loc)) ?? 'form';
      fieldErrors[field] ??= item.msg ?? 'Invalid value.';
    }
    const message = detailText ?? (Object.values(fieldErrors).join(' ') || fallbackMessage(status));
    return { message, code, fieldErrors };
  }

  const message = detailText ?? fallbackMessage(status);
  const field = typeof record.field === 'string' ? normalizeField(record.field) : fieldFromCode(code);
  fieldErrors[field ?? 'form'] = message;
  return { message, code, fieldErrors };
}

// A body without `detail` comes from a proxy or a crashed instance, not from the API's handlers.
function fallbackMessage(status: number): string {
  if (status >= 500) return `The server failed to handle the request (HTTP ${status}). Try again in a moment.`;
  return `The request failed with HTTP ${status}.`;
}

function lastStringOf(location: (string | number)[] | undefined): string | undefined {
  if (!location) return undefined;
  for (let index = location.length - 1; index >= 0; index -= 1) {
    const part = location[index];
    if (typeof part === 'string' && part !== 'body') return part;
  }
  return undefined;
}

/** Maps the API's field names ("A.shape", "options.tol", "Idempotency-Key") to form field names. */
function normalizeField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const parts = field.split('.');
  const name = parts[0] === 'options' || parts[0] === 'generator' ? parts[parts.length - 1]! : parts[0]!;
  return name.toLowerCase();
}

const FIELDS_IN_CODES = ['email', 'password', 'username'];

// Errors without a `field` member (e.g. `email_taken`, `weak_password`) name
// the field as one word of their code.
function fieldFromCode(code: string | undefined): string | undefined {
  if (!code) return undefined;
  const words = code.split(/[_.]/);
  return FIELDS_IN_CODES.find((field) => words.includes(field));
}
