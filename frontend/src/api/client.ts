// Typed clients of the two APIs, generated from their OpenAPI documents, with
// the access token added to every request and one handler for 401.
import createClient, { type Middleware } from 'openapi-fetch';
import { endSession, getFreshAccessToken } from '../auth/session';
import type { paths as CommandPaths } from './generated/command';
import type { paths as QueryPaths } from './generated/query';
import { ApiError, NetworkError } from './errors';

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => undefined;

/** Sets the handler for a 401 response to a signed-in request (the app redirects to log in). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

const PUBLIC_ROUTES = ['/v1/auth/register', '/v1/auth/token', '/v1/auth/refresh'];

const authMiddleware: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (PUBLIC_ROUTES.includes(schemaPath)) return request;
    const token = await getFreshAccessToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response, schemaPath }) {
    if (response.status === 401 && !PUBLIC_ROUTES.includes(schemaPath)) {
      endSession();
      onUnauthorized();
    }
    return response;
  },
  onError({ error }) {
    return new NetworkError(error);
  },
};

/** Origin of the APIs: the page's own origin, because nginx serves both. */
export function apiOrigin(): string {
  return window.location.origin;
}

// Looked up per call, so that tests can replace globalThis.fetch.
const callFetch = (request: Request) => globalThis.fetch(request);

export const commandClient = createClient<CommandPaths>({ baseUrl: `${apiOrigin()}/command`, fetch: callFetch });
commandClient.use(authMiddleware);

export const queryClientApi = createClient<QueryPaths>({ baseUrl: `${apiOrigin()}/query`, fetch: callFetch });
queryClientApi.use(authMiddleware);

/** Returns `data` of an openapi-fetch result, or throws ApiError with the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error);
  }
  return result.data as T;
}
