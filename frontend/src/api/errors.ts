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
  /** Messages keyed by the request field they concern; `form` holds the rest. */
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
  const record = (body ?? {}) as { detail?: unknown; code?: unknown; field?: unknown };
  const code = typeof record.code === 'string' ? record.code : undefined;

  if (Array.isArray(record.detail)) {
    for (const item of record.detail as ValidationItem[]) {
      const field = lastStringOf(item.loc) ?? 'form';
      fieldErrors[field] ??= item.msg ?? 'Invalid value.';
    }
    const message = Object.values(fieldErrors).join(' ') || `Request failed with status ${status}.`;
    return { message, code, fieldErrors };
  }

  const message =
    typeof record.detail === 'string' && record.detail
      ? record.detail
      : `Request failed with status ${status}.`;
  const field = typeof record.field === 'string' ? record.field : fieldFromCode(code);
  fieldErrors[field ?? 'form'] = message;
  return { message, code, fieldErrors };
}

function lastStringOf(location: (string | number)[] | undefined): string | undefined {
  if (!location) return undefined;
  for (let index = location.length - 1; index >= 0; index -= 1) {
    const part = location[index];
    if (typeof part === 'string' && part !== 'body') return part;
  }
  return undefined;
}

// NOTE: the contract gives errors no `field` member, so a field is guessed
// from the leading word of the error code (`email_taken` -> email).
function fieldFromCode(code: string | undefined): string | undefined {
  if (!code) return undefined;
  const knownFields = ['email', 'password', 'username', 'a', 'b', 'n', 'method', 'generator', 'tol', 'max_iter'];
  const head = code.split(/[_.]/)[0];
  return knownFields.find((field) => field === head);
}
