// acquireTokenInteractive on a PublicClientApplication: msal-node listens on
// http://localhost:<free port> and, instead of opening a browser, writes the authorization
// URL to --url-file, where the test picks it up and signs in; Sigil answers the loopback
// listener with response_mode=form_post. PKCE throughout; no credential.
import { writeFileSync, renameSync } from "node:fs";
import { args, publicClient, run, scopes, summary } from "./lib.mjs";

const a = args({ "url-file": { type: "string" }, "login-hint": { type: "string" } });
await run(async () => summary(await publicClient(a).acquireTokenInteractive({
  scopes: scopes(a), loginHint: a["login-hint"],
  openBrowser: async (url) => {
    writeFileSync(a["url-file"] + ".tmp", url);
    renameSync(a["url-file"] + ".tmp", a["url-file"]); // the reader never sees half a URL
  },
  successTemplate: "signed in", errorTemplate: "sign-in failed",
})));
