// getAuthCodeUrl: the authorization request URL a web app sends the browser to.
import { args, confidential, run, scopes } from "./lib.mjs";

const a = args({ state: { type: "string" }, nonce: { type: "string" }, prompt: { type: "string" },
  "login-hint": { type: "string" } });
await run(async () => ({
  url: await confidential(a).getAuthCodeUrl({ scopes: scopes(a), redirectUri: a["redirect-uri"], state: a.state,
    nonce: a.nonce, prompt: a.prompt, loginHint: a["login-hint"], responseMode: "query" }),
}));
