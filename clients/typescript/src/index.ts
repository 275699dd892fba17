/**
 * The Pasar API client: openapi-fetch typed with the paths generated from the server's own
 * OpenAPI document (`src/schema.d.ts`, regenerated with `npm run generate`), so a route, a
 * request body or a response field that the server does not have fails to compile instead of
 * failing in production.
 *
 * Only the sign-in plumbing is hand-written here; every route comes from the document.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/**
 * The body of every error answer: RFC 9457 problem+json (`application/problem+json`) with a
 * stable machine-readable `code` (e.g. `invalid_credentials`) to branch on; `title` and
 * `detail` are for people, and `errors` names the invalid fields of a 422.
 */
export type Problem = components["schemas"]["Problem"];

/** A typed client over every public route of the Pasar API. */
export type PasarClient = Client<paths>;

/** An access token, or a function giving the current one (e.g. read from a token store that
 * refreshes it). `undefined` or `null` sends the request without `Authorization`. */
export type AccessToken =
  | string
  | (() => string | null | undefined | Promise<string | null | undefined>);

export interface PasarClientOptions {
  /** Where the API is, without a trailing slash, e.g. `https://api.pasar.example`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` on every request when given. */
  accessToken?: AccessToken;
  /** A fetch implementation, for runtimes without a global one or for tests. */
  fetch?: (input: Request) => Promise<Response>;
}

/**
 * Creates a client for the Pasar API.
 *
 * ```ts
 * const pasar = createPasarClient({ baseUrl, accessToken: () => store.accessToken });
 * const { data, error } = await pasar.GET("/api/v1/users/me");
 * ```
 *
 * Answers are `{ data }` on success and `{ error }` (a {@link Problem}) otherwise; nothing
 * throws for an HTTP error status, only for a network failure.
 */
export function createPasarClient(options: PasarClientOptions): PasarClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.accessToken !== undefined) {
    client.use(bearer(options.accessToken));
  }
  return client;
}

/**
 * Adds the bearer token as middleware rather than as a fixed header, so that a getter is asked
 * on each request and a refreshed token is used without building a new client. A request that
 * already carries `Authorization` (set per call) keeps it.
 */
function bearer(token: AccessToken): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === "function" ? await token() : token;
      if (value && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}
