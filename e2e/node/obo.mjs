// acquireTokenOnBehalfOf: a middle-tier API exchanges the user's access token it was called
// with (--assertion) for a token to a downstream API, with its own credential. msal-node keeps
// on-behalf-of tokens in its in-memory cache only (its cache plugin is not read for this flow),
// so --again=true asks a second time in the same process, as a running API would, and reports
// that second answer with the first one's access token and account beside it.
import { args, confidential, run, scopes, summary } from "./lib.mjs";

const a = args({ assertion: { type: "string" }, again: { type: "string" } });
await run(async () => {
  const app = confidential(a);
  const request = { oboAssertion: a.assertion, scopes: scopes(a) };
  const first = await app.acquireTokenOnBehalfOf(request);
  if (a.again !== "true") return summary(first);
  return { ...summary(await app.acquireTokenOnBehalfOf(request)), firstAccessToken: first.accessToken,
    firstUsername: first.account && first.account.username };
});
