// acquireTokenSilent for the one account in the --cache file: from the cache, or with
// --force-refresh=true through the refresh token.
import { args, confidential, run, scopes, summary } from "./lib.mjs";

const a = args({ "force-refresh": { type: "string" } });
await run(async () => {
  const app = confidential(a);
  const accounts = await app.getTokenCache().getAllAccounts();
  if (accounts.length !== 1) throw new Error(`want one account in the cache, found ${accounts.length}`);
  return summary(await app.acquireTokenSilent({ account: accounts[0], scopes: scopes(a), forceRefresh: a["force-refresh"] === "true" }));
});
