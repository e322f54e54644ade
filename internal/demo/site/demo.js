// The demo walks through the pattern every SPA lives on. Nothing here is Sigil-specific:
// point authority and knownAuthorities at Entra and it works the same.
(async function () {
  const cfg = window.sigilDemo;
  const scopes = ["User.Read"];
  const $ = (id) => document.getElementById(id);
  const log = (msg, cls) => {
    const li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + "  " + msg;
    if (cls) li.className = cls;
    $("log").prepend(li);
  };
  const show = (v) => { $("result").textContent = typeof v === "string" ? v : JSON.stringify(v, null, 2); };
  const claims = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));

  $("msal-version").textContent = msal.version ? "(msal-browser " + msal.version + ")" : "";
  const pca = new msal.PublicClientApplication({
    auth: {
      clientId: cfg.clientId,
      authority: cfg.authority,
      knownAuthorities: [cfg.knownAuthority],
      redirectUri: cfg.origin + "/redirect.html",
      postLogoutRedirectUri: cfg.origin + "/",
    },
    cache: { cacheLocation: "localStorage" },
  });
  await pca.initialize();

  const account = () => pca.getActiveAccount() || pca.getAllAccounts()[0] || null;
  const render = () => {
    const a = account();
    $("account").textContent = a ? JSON.stringify({ username: a.username, name: a.name, tenantId: a.tenantId,
      homeAccountId: a.homeAccountId, idTokenClaims: a.idTokenClaims }, null, 2) : "Not signed in.";
  };
  const done = (what, r) => {
    if (r && r.account) pca.setActiveAccount(r.account);
    log(what + (r && r.fromCache ? " (from cache)" : ""));
    if (r && r.accessToken) show({ scopes: r.scopes, expiresOn: r.expiresOn, accessTokenClaims: claims(r.accessToken) });
    render();
    return r;
  };
  const failed = (what) => (e) => { log(what + " failed: " + (e.errorCode || e.name) + " " + (e.errorMessage || e.message), "err"); };

  const fromRedirect = await pca.handleRedirectPromise().catch(failed("redirect"));
  if (fromRedirect) done("signed in by redirect", fromRedirect);
  render();

  async function getToken(forceRefresh) {
    const a = account();
    if (!a) throw new Error("sign in first");
    try {
      return done(forceRefresh ? "token refreshed" : "token acquired silently",
        await pca.acquireTokenSilent({ scopes, account: a, forceRefresh }));
    } catch (e) {
      if (!(e instanceof msal.InteractionRequiredAuthError)) throw e;
      log("silent acquisition needs the user (" + e.errorCode + "): falling back to a popup");
      return done("token acquired by popup", await pca.acquireTokenPopup({ scopes, account: a }));
    }
  }

  $("login-popup").onclick = () => pca.loginPopup({ scopes }).then((r) => done("signed in by popup", r), failed("popup sign-in"));
  $("login-redirect").onclick = () => pca.loginRedirect({ scopes, redirectUri: cfg.origin + "/" }).catch(failed("redirect sign-in"));
  $("token-silent").onclick = () => getToken(false).catch(failed("silent token"));
  $("token-force").onclick = () => getToken(true).catch(failed("refresh"));
  $("call-me").onclick = async () => {
    try {
      const r = await getToken(false);
      const res = await fetch(cfg.publicUrl + "/v1.0/me", { headers: { Authorization: "Bearer " + r.accessToken } });
      show(await res.json());
      log("GET /v1.0/me → " + res.status);
    } catch (e) { failed("API call")(e); }
  };
  $("logout").onclick = () => pca.logoutRedirect({ account: account() }).catch(failed("sign-out"));
})();
