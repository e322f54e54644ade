// The test driver: a thin layer over the real MSAL.js that the Go tests call through
// window.t. Every call resolves to plain JSON: a summary of MSAL's result, or {error: {...}}
// with the fields of MSAL's error and whether it is an InteractionRequiredAuthError.
const cfg = window.sigilTest;
let pca, lib;

function summary(r) {
  if (!r) return null;
  return { accessToken: r.accessToken, idToken: r.idToken, scopes: r.scopes, fromCache: r.fromCache,
    tokenType: r.tokenType, account: r.account && { username: r.account.username, homeAccountId: r.account.homeAccountId,
      tenantId: r.account.tenantId, idTokenClaims: r.account.idTokenClaims }, expiresOn: r.expiresOn && r.expiresOn.getTime() };
}

function failure(e) {
  return { error: { name: e.name, errorCode: e.errorCode, errorMessage: e.errorMessage || e.message, subError: e.subError,
    interactionRequired: e instanceof lib.InteractionRequiredAuthError } };
}

async function run(fn) {
  const t0 = performance.now();
  try {
    const out = summary(await fn()) || {};
    out.ms = performance.now() - t0;
    return out;
  } catch (e) {
    const out = failure(e);
    out.ms = performance.now() - t0;
    return out;
  }
}

function account() { return pca.getActiveAccount() || pca.getAllAccounts()[0]; }

function done(r) { if (r && r.account) pca.setActiveAccount(r.account); return r; }

// protocolMode reads msal-browser 5's system.protocolMode ("AAD", "OIDC", "EAR") from the
// page's ?protocolMode= and keeps it for the tab, so a redirect flow comes back to the same mode.
function protocolMode() {
  const asked = new URLSearchParams(location.search).get("protocolMode");
  if (asked) sessionStorage.setItem("test.protocolMode", asked);
  const mode = sessionStorage.getItem("test.protocolMode");
  return mode ? { protocolMode: mode } : {};
}

async function start(msalLib, uris) {
  lib = msalLib;
  pca = new lib.PublicClientApplication({
    auth: { clientId: cfg.clientId, authority: cfg.authority, knownAuthorities: [cfg.knownAuthority],
      redirectUri: uris.redirectUri, postLogoutRedirectUri: cfg.origin + "/signed-out.html",
      // ?clientCapabilities=CP1 sets MSAL's client capabilities (sent as the claims parameter's xms_cc).
      clientCapabilities: (new URLSearchParams(location.search).get("clientCapabilities") || "").split(",").filter(Boolean) },
    cache: { cacheLocation: "sessionStorage" },
    system: Object.assign({ iframeHashTimeout: 10000, loadFrameTimeout: 10000 }, protocolMode()),
  });
  if (pca.initialize) await pca.initialize();
  window.redirectResult = await run(() => pca.handleRedirectPromise().then(done));
  window.t = {
    version: () => lib.version,
    mode: () => (pca.getConfiguration ? pca.getConfiguration().system.protocolMode : undefined),
    loginPopup: (scopes, opts) => run(() => pca.loginPopup(Object.assign({ scopes }, opts || {})).then(done)),
    loginRedirect: (scopes, opts) => { pca.loginRedirect(Object.assign({ scopes, redirectUri: uris.redirectFlowUri }, opts || {})); return true; },
    ssoSilent: (scopes, opts) => run(() => pca.ssoSilent(Object.assign({ scopes, loginHint: account() && account().username }, opts || {})).then(done)),
    silent: (scopes, opts) => run(() => pca.acquireTokenSilent(Object.assign({ scopes, account: account() }, opts || {})).then(done)),
    // acquireTokenByCode redeems a hybrid spa_code that the app's server side got (no PKCE,
    // no redirect_uri, no iframe); its tokens go to MSAL's cache like any others.
    byCode: (code, scopes, opts) => run(() => pca.acquireTokenByCode(Object.assign({ code, scopes }, opts || {})).then(done)),
    tokenPopup: (scopes, opts) => run(() => pca.acquireTokenPopup(Object.assign({ scopes, account: account() }, opts || {})).then(done)),
    accounts: () => pca.getAllAccounts().map((a) => a.username),
    // Drop cached refresh tokens (and access tokens, so that only the network can answer).
    forget: (kinds) => {
      let n = 0;
      for (const store of [localStorage, sessionStorage]) {
        for (const k of Object.keys(store)) {
          if (kinds.some((kind) => k.toLowerCase().includes(kind))) { store.removeItem(k); n++; }
        }
      }
      return n;
    },
    callAPI: async (url, token) => {
      const res = await fetch(url, { headers: { Authorization: "Bearer " + token } });
      return { status: res.status, body: await res.json() };
    },
    // callProtected is the documented pattern against an API that may answer with a claims
    // challenge (Entra's CAE): a token from acquireTokenSilent, the call, and on a 401 with
    // error="insufficient_claims" a new token for the challenge's claims — passed, decoded, to
    // acquireTokenSilent({claims}) — and the call again.
    callProtected: async (url, scopes, method) => {
      const call = async (token) => {
        const res = await fetch(url, { method: method || "GET", headers: { Authorization: "Bearer " + token } });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null, challenge: res.headers.get("WWW-Authenticate") || "" };
      };
      let tok = await pca.acquireTokenSilent({ scopes, account: account() });
      let out = await call(tok.accessToken);
      out.challenged = false;
      const m = /error="insufficient_claims"/.test(out.challenge) && /claims="([^"]+)"/.exec(out.challenge);
      if (out.status === 401 && m) {
        const claims = atob(m[1]);
        tok = await pca.acquireTokenSilent({ scopes, account: account(), claims });
        out = Object.assign(await call(tok.accessToken), { challenged: true, claims });
      }
      out.accessToken = tok.accessToken;
      return out;
    },
    logoutRedirect: () => { pca.logoutRedirect({ account: account() }); return true; },
  };
  return true;
}
