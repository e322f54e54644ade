// acquireTokenByClientCredential: a daemon's app-only token, with a secret or a certificate.
// With --cache, a second run is answered from msal-node's cache.
import { args, confidential, run, scopes, summary } from "./lib.mjs";

const a = args();
await run(async () => summary(await confidential(a).acquireTokenByClientCredential({ scopes: scopes(a) })));
