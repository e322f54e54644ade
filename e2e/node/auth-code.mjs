// acquireTokenByCode: a web app redeems the code from its redirect URI with its credential.
// --spa-code=true asks for the hybrid SPA code too (enableSpaAuthorizationCode: return_spa_code=1);
// it comes back as the result's code.
import { args, confidential, run, scopes, summary } from "./lib.mjs";

const a = args({ code: { type: "string" }, "spa-code": { type: "string" }, state: { type: "string" } });
await run(async () => summary(await confidential(a).acquireTokenByCode({ code: a.code, scopes: scopes(a),
  redirectUri: a["redirect-uri"], state: a.state, enableSpaAuthorizationCode: a["spa-code"] === "true" })));
