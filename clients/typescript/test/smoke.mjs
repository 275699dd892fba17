// Calls a running Pasar server through openapi-fetch, as an app using this client would:
// a public route, register, sign in, an authenticated route, and errors as problem+json.
// Plain ESM, so it runs with `node` and no compile step.
//
//   PASAR_URL=http://127.0.0.1:8080 node test/smoke.mjs
//
// Prints one line per check; exits 1 at the first mismatch, saying what was expected and what
// came back. The Rust test `typescript_client` runs it against a fresh server on SQLite and on
// PostgreSQL.
import { randomUUID } from "node:crypto";

import createClient from "openapi-fetch";

const PROBLEM_JSON = "application/problem+json";
// Meets the password policy: 8-128 characters with upper, lower, digit and symbol.
const PASSWORD = "Str0ng!Passw0rd";

const baseUrl = (process.env.PASAR_URL ?? "").replace(/\/+$/, "");
if (!baseUrl) {
  fail("PASAR_URL is not set (the server's base URL, e.g. http://127.0.0.1:8080)");
}

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

function ok(message) {
  console.log(`ok   ${message}`);
}

function describe(answer) {
  const body = answer.error ?? answer.data;
  return `${answer.response.status} ${answer.response.headers.get("content-type") ?? "(no content type)"} ${JSON.stringify(body)}`;
}

/** Requires `status`, and returns the answer's parsed body. */
function expectStatus(what, answer, status) {
  if (answer.response.status !== status) {
    fail(`${what}: expected ${status}, got ${describe(answer)}`);
  }
  return answer.error ?? answer.data;
}

/** Requires an RFC 9457 problem with `status` and a stable `code` (`code` itself when given). */
function expectProblem(what, answer, status, code) {
  const problem = expectStatus(what, answer, status);
  const type = answer.response.headers.get("content-type") ?? "";
  if (!type.startsWith(PROBLEM_JSON)) {
    fail(`${what}: expected content type ${PROBLEM_JSON}, got ${describe(answer)}`);
  }
  if (typeof problem !== "object" || problem === null) {
    fail(`${what}: expected a problem object, got ${describe(answer)}`);
  }
  if (typeof problem.code !== "string" || problem.code === "") {
    fail(`${what}: expected a problem with a code, got ${describe(answer)}`);
  }
  if (code !== undefined && problem.code !== code) {
    fail(`${what}: expected code ${code}, got ${describe(answer)}`);
  }
  if (problem.status !== status) {
    fail(`${what}: expected the problem's status to be ${status}, got ${describe(answer)}`);
  }
  return problem;
}

function expectEqual(what, actual, expected) {
  if (actual !== expected) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function expectToken(what, value) {
  if (typeof value !== "string" || value.length < 20) {
    fail(`${what}: expected a token, got ${JSON.stringify(value)}`);
  }
}

async function main() {
  const anonymous = createClient({ baseUrl });

  const live = await anonymous.GET("/health/live");
  expectEqual("GET /health/live status", expectStatus("GET /health/live", live, 200).status, "up");
  ok("GET /health/live -> 200 up");

  const stranger = await anonymous.GET("/api/v1/users/me");
  const missing = expectProblem("GET /api/v1/users/me without a token", stranger, 401);
  ok(`GET /api/v1/users/me without a token -> 401 problem+json (${missing.code})`);

  const email = `smoke.${randomUUID().replaceAll("-", "")}@example.com`;
  const registered = await anonymous.POST("/api/v1/auth/register", {
    body: { email, password: PASSWORD, firstName: "Smoke", lastName: "Test" },
  });
  const account = expectStatus("POST /api/v1/auth/register", registered, 201);
  expectToken("POST /api/v1/auth/register accessToken", account.accessToken);
  expectEqual("POST /api/v1/auth/register user.email", account.user?.email, email);
  ok(`POST /api/v1/auth/register -> 201 user ${account.user.id}`);

  const login = await anonymous.POST("/api/v1/auth/login", { body: { email, password: PASSWORD } });
  const tokens = expectStatus("POST /api/v1/auth/login", login, 200);
  expectToken("POST /api/v1/auth/login accessToken", tokens.accessToken);
  expectEqual("POST /api/v1/auth/login tokenType", tokens.tokenType, "Bearer");
  ok("POST /api/v1/auth/login -> 200 token pair");

  // The bearer token as the client package adds it: openapi-fetch middleware.
  const signedIn = createClient({ baseUrl });
  signedIn.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${tokens.accessToken}`);
      return request;
    },
  });
  const me = expectStatus("GET /api/v1/users/me", await signedIn.GET("/api/v1/users/me"), 200);
  expectEqual("GET /api/v1/users/me id", me.id, account.user.id);
  expectEqual("GET /api/v1/users/me email", me.email, email);
  expectEqual("GET /api/v1/users/me firstName", me.firstName, "Smoke");
  if (!Array.isArray(me.roles) || !me.roles.includes("customer")) {
    fail(`GET /api/v1/users/me roles: expected to include "customer", got ${JSON.stringify(me.roles)}`);
  }
  ok("GET /api/v1/users/me with the bearer token -> 200 the new customer");

  const wrong = await anonymous.POST("/api/v1/auth/login", {
    body: { email, password: `${PASSWORD}-wrong` },
  });
  expectProblem("POST /api/v1/auth/login with a wrong password", wrong, 401, "invalid_credentials");
  ok("POST /api/v1/auth/login with a wrong password -> 401 problem+json invalid_credentials");

  const taken = await anonymous.POST("/api/v1/auth/register", {
    body: { email, password: PASSWORD, firstName: "Smoke", lastName: "Again" },
  });
  expectProblem("POST /api/v1/auth/register with a taken email", taken, 409, "email_taken");
  ok("POST /api/v1/auth/register with a taken email -> 409 problem+json email_taken");

  console.log("smoke: all checks passed");
}

main().catch((err) => {
  // A network failure: fetch's own message ("fetch failed") hides the reason in `cause`.
  const cause = err?.cause ? ` (cause: ${err.cause?.message ?? err.cause})` : "";
  fail(`calling ${baseUrl}: ${err?.stack ?? err}${cause}`);
});
