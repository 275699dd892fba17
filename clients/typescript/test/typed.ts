/**
 * The calls of `smoke.mjs`, written against the generated types. It is type-checked, not run:
 * `npm run typecheck` (and the Rust test `typescript_client`) compile it, so a change of the
 * document that breaks these calls (a renamed route, a new required field, a moved property)
 * fails there before it reaches the mobile and web apps.
 */
import { createPasarClient, type Problem } from "../src/index.js";

export async function typedCalls(baseUrl: string, email: string, password: string) {
  const anonymous = createPasarClient({ baseUrl });

  const live = await anonymous.GET("/health/live");
  const status: string | undefined = live.data?.status;

  const registered = await anonymous.POST("/api/v1/auth/register", {
    body: { email, password, firstName: "Smoke", lastName: "Test" },
  });
  if (registered.error) {
    const problem: Problem = registered.error;
    throw new Error(`register: ${registered.response.status} ${problem.code}`);
  }
  const userId: string = registered.data.user.id;

  const login = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
  if (login.error) {
    throw new Error(`login: ${login.error.code}: ${login.error.detail}`);
  }
  const tokens = login.data;

  // A getter, as an app with a token store would pass.
  const signedIn = createPasarClient({ baseUrl, accessToken: () => tokens.accessToken });
  const me = await signedIn.GET("/api/v1/users/me");
  if (me.error) {
    throw new Error(`me: ${me.error.code}`);
  }
  const roles: readonly string[] = me.data.roles;
  const verification: string = me.data.verification;

  const wrong = await anonymous.POST("/api/v1/auth/login", {
    body: { email, password: `${password}-wrong` },
  });
  const code: string | undefined = wrong.error?.code;
  const fields: { field: string; message: string }[] | undefined = wrong.error?.errors;

  return { status, userId, roles, verification, code, fields };
}
