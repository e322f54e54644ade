// acquireTokenByDeviceCode on a PublicClientApplication: msal-node asks Sigil's devicecode
// endpoint for a code, hands it to deviceCodeCallback — which writes it to --code-file, where
// the test picks it up and completes the verification page — and polls the token endpoint
// every `interval` seconds until the user has approved.
import { writeFileSync, renameSync } from "node:fs";
import { args, publicClient, run, scopes, summary } from "./lib.mjs";

const a = args({ "code-file": { type: "string" } });
await run(async () => summary(await publicClient(a).acquireTokenByDeviceCode({
  scopes: scopes(a),
  deviceCodeCallback: (r) => {
    writeFileSync(a["code-file"] + ".tmp", JSON.stringify(r));
    renameSync(a["code-file"] + ".tmp", a["code-file"]); // the reader never sees half of it
  },
})));
