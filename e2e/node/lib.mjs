// Shared by the scripts of e2e/node: each runs one msal-node operation against Sigil and
// prints one JSON line — {"ok": true, ...result} or {"ok": false, "error": {...}} — then exits
// 0 or 1. Inputs come as --name=value arguments (see options below); Sigil's local CA comes in
// NODE_EXTRA_CA_CERTS. The Go side is e2e/harness/node.go (Env.RunNode).
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { parseArgs } from "node:util";
import * as msal from "@azure/msal-node";

// options are the arguments every script understands; a script adds its own.
const options = {
  authority: { type: "string" },          // https://127.0.0.1:<port>/contoso.test
  "known-authority": { type: "string" },  // 127.0.0.1:<port>: MSAL trusts it without instance discovery
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  cert: { type: "string" },               // PEM certificate file: a certificate credential with
  key: { type: "string" },                // its PEM private key file (client assertions)
  scopes: { type: "string" },             // space-separated
  cache: { type: "string" },              // a file that keeps msal-node's token cache between runs
  "redirect-uri": { type: "string" },
};

// args parses the command line with the script's extra options.
export function args(extra = {}) {
  const { values } = parseArgs({ options: { ...options, ...extra }, strict: true });
  return values;
}

export function scopes(a) {
  return (a.scopes || "").split(" ").filter(Boolean);
}

// filePlugin keeps the token cache in a file, as a server-side app's persistent cache does.
function filePlugin(file) {
  return {
    beforeCacheAccess: async (ctx) => {
      if (existsSync(file)) ctx.tokenCache.deserialize(readFileSync(file, "utf8"));
    },
    afterCacheAccess: async (ctx) => {
      if (ctx.cacheHasChanged) writeFileSync(file, ctx.tokenCache.serialize());
    },
  };
}

// config is the msal-node configuration for the arguments: Sigil as a known authority (no
// instance discovery, metadata from its discovery document), a secret or a certificate.
export function config(a) {
  const auth = { clientId: a["client-id"], authority: a.authority, knownAuthorities: [a["known-authority"]] };
  if (a["client-secret"]) auth.clientSecret = a["client-secret"];
  if (a.cert) {
    const pem = readFileSync(a.cert, "utf8");
    auth.clientCertificate = {
      thumbprintSha256: new X509Certificate(pem).fingerprint256.replaceAll(":", ""),
      privateKey: readFileSync(a.key, "utf8"),
      x5c: pem,
    };
  }
  const c = { auth, system: { loggerOptions: { logLevel: msal.LogLevel.Error, piiLoggingEnabled: false,
    loggerCallback: (_level, message) => process.stderr.write(message + "\n") } } };
  if (a.cache) c.cache = { cachePlugin: filePlugin(a.cache) };
  return c;
}

export function confidential(a) {
  return new msal.ConfidentialClientApplication(config(a));
}

export function publicClient(a) {
  return new msal.PublicClientApplication(config(a));
}

// summary is what the Go side reads of an AuthenticationResult.
export function summary(r) {
  return { accessToken: r.accessToken, idToken: r.idToken, scopes: r.scopes, fromCache: r.fromCache,
    tokenType: r.tokenType, code: r.code, expiresOn: r.expiresOn && r.expiresOn.getTime(),
    account: r.account && { homeAccountId: r.account.homeAccountId, username: r.account.username,
      tenantId: r.account.tenantId, localAccountId: r.account.localAccountId } };
}

// run runs the operation, prints its one JSON line and sets the exit code.
export async function run(op) {
  try {
    const out = await op();
    process.stdout.write(JSON.stringify({ ok: true, ...out }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: { name: e && e.name, errorCode: e && e.errorCode,
      errorMessage: (e && (e.errorMessage || e.message)) || String(e), subError: e && e.subError } }) + "\n");
    process.exitCode = 1;
  }
}
