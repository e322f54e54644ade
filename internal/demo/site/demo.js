// The demo walks through the pattern every SPA lives on, and shows it happening: for every
// token call, which path served it (cache, refresh token, hidden iframe, popup, redirect),
// how long it took and which requests it made. Nothing here is Sigil-specific: point
// authority and knownAuthorities at Entra and it works the same.
(async function () {
  const cfg = window.sigilDemo;
  const scopes = ["User.Read"];
  const $ = (id) => document.getElementById(id);

  if (typeof msal === "undefined") {
    const tag = [...document.scripts].find((s) => /msal-browser/.test(s.src));
    const from = tag ? tag.src : "its script tag";
    $("msal-missing").hidden = false;
    $("msal-missing").textContent = "MSAL.js did not load (" + from + "), so nothing on this page can work. " +
      "Run `npm ci` in the Sigil repository and restart `go run ./cmd/sigil dev`: MSAL is then served from " +
      "node_modules instead of the jsDelivr CDN, which this browser could not reach.";
    document.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    return;
  }

  const log = (msg, cls) => {
    const li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + "  " + msg;
    if (cls) li.className = cls;
    $("log").prepend(li);
  };
  const status = (msg) => { $("status").textContent = msg; };
  const show = (v) => { $("result").textContent = typeof v === "string" ? v : JSON.stringify(v, null, 2); };
  const decode = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));

  // The requests a call made to Sigil, read from the browser's resource timing: the token
  // endpoint's fetches and the hidden iframe's authorize request both show up there.
  performance.setResourceTimingBufferSize(2000);
  const requestsSince = (t0) => performance.getEntriesByType("resource")
    .filter((e) => e.startTime >= t0 && e.name.startsWith(cfg.publicUrl))
    .map((e) => {
      const path = new URL(e.name).pathname.replace(/^\/[^/]+\/(oauth2\/v2\.0|v2\.0|discovery\/v2\.0)\//, "…/$1/");
      return { path, iframe: e.initiatorType === "iframe", label: (e.initiatorType === "iframe" ? "iframe " : e.initiatorType === "fetch" ? "fetch " : "") + path };
    });
  // MSAL's hidden iframes, seen as they are added to the page (resource timing may miss an
  // iframe MSAL removes before it finished loading).
  const frames = [];
  new MutationObserver((changes) => {
    for (const c of changes) c.addedNodes.forEach((n) => { if (n.tagName === "IFRAME") frames.push({ el: n, at: performance.now() }); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  const framesSince = (t0) => frames.filter((f) => f.at >= t0 && f.el.src.startsWith(cfg.publicUrl) && f.el.src.includes("/authorize"));
  const served = (how, r, reqs, t0) => {
    if (how) return how;
    if (r && r.fromCache) return "cache";
    if (framesSince(t0).length > 0 || reqs.some((q) => q.iframe && q.path.includes("/authorize"))) return "hidden iframe";
    if (reqs.some((q) => q.path.endsWith("/token"))) return "refresh token";
    return "network";
  };
  const timeline = (call, path, ms, reqs) => {
    const tr = document.createElement("tr");
    const cells = [new Date().toLocaleTimeString(), call, path, ms + " ms", reqs.map((q) => q.label).join(", ") || "none"];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 2) td.className = "path path-" + path.split(" ").pop();
      tr.appendChild(td);
    });
    tr.dataset.path = path;
    $("timeline").tBodies[0].prepend(tr);
  };
  // track runs one MSAL call and records it on the timeline; how names the path for
  // interactive calls, which always go through the user.
  const track = async (call, how, run) => {
    const t0 = performance.now();
    try {
      const r = await run();
      const reqs = requestsSince(t0);
      if (framesSince(t0).length > 0 && !reqs.some((q) => q.iframe)) reqs.unshift({ label: "iframe …/oauth2/v2.0/authorize (prompt=none)", iframe: true, path: "/authorize" });
      timeline(call, served(how, r, reqs, t0), Math.round(performance.now() - t0), reqs);
      return r;
    } catch (e) {
      timeline(call, "failed", Math.round(performance.now() - t0), requestsSince(t0));
      throw e;
    }
  };

  const claimsTable = (id, claims) => {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    for (const [k, v] of Object.entries(claims)) {
      const tr = body.insertRow();
      tr.insertCell().textContent = k;
      const shown = typeof v === "number" && /^(exp|iat|nbf|auth_time)$/.test(k) ? v + "  (" + new Date(v * 1000).toLocaleString() + ")" : JSON.stringify(v);
      tr.insertCell().textContent = shown;
    }
  };
  const expiries = { "id-expiry": 0, "at-expiry": 0 };
  setInterval(() => {
    for (const [id, exp] of Object.entries(expiries)) {
      if (!exp) continue;
      const left = Math.round(exp - Date.now() / 1000);
      $(id).textContent = left > 0 ? "expires in " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "expired";
    }
  }, 1000);

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
      homeAccountId: a.homeAccountId }, null, 2) : "Not signed in.";
    if (a && a.idTokenClaims) {
      claimsTable("id-claims", a.idTokenClaims);
      expiries["id-expiry"] = a.idTokenClaims.exp;
    }
  };
  const done = (what, r) => {
    if (r && r.account) pca.setActiveAccount(r.account);
    log(what + (r && r.fromCache ? " (from cache)" : ""));
    if (r && r.accessToken) {
      const at = decode(r.accessToken);
      show({ scopes: r.scopes, expiresOn: r.expiresOn, fromCache: r.fromCache });
      claimsTable("at-claims", at);
      expiries["at-expiry"] = at.exp;
    }
    render();
    return r;
  };
  const failed = (what) => (e) => { log(what + " failed: " + (e.errorCode || e.name) + " " + (e.errorMessage || e.message), "err"); };

  const pending = JSON.parse(sessionStorage.getItem("sigil-demo.redirect") || "null");
  sessionStorage.removeItem("sigil-demo.redirect");
  const fromRedirect = await pca.handleRedirectPromise().catch(failed("redirect"));
  if (fromRedirect) {
    if (pending) timeline(pending.call, "redirect", Date.now() - pending.at, []);
    done("signed in by redirect", fromRedirect);
  } else if (pending && pending.call === "logoutRedirect") {
    status("You are signed out: Sigil ended your session and this app forgot your account.");
    log("signed out");
  }
  render();

  // getToken is the pattern: silently first; a popup only when the user must act.
  async function getToken(forceRefresh, cacheLookupPolicy, call) {
    const a = account();
    if (!a) throw new Error("sign in first");
    try {
      const what = forceRefresh ? "token refreshed" : "token acquired silently";
      return done(what, await track(call || "acquireTokenSilent", null,
        () => pca.acquireTokenSilent({ scopes, account: a, forceRefresh, cacheLookupPolicy })));
    } catch (e) {
      if (!(e instanceof msal.InteractionRequiredAuthError)) throw e;
      log("silent acquisition needs the user (" + e.errorCode + "): falling back to a popup");
      return done("token acquired by popup", await track("acquireTokenPopup", "popup", () => pca.acquireTokenPopup({ scopes, account: a })));
    }
  }

  $("login-popup").onclick = () => track("loginPopup", "popup", () => pca.loginPopup({ scopes }))
    .then((r) => done("signed in by popup", r), failed("popup sign-in"));
  $("login-redirect").onclick = () => {
    sessionStorage.setItem("sigil-demo.redirect", JSON.stringify({ call: "loginRedirect", at: Date.now() }));
    pca.loginRedirect({ scopes, redirectUri: cfg.origin + "/" }).catch(failed("redirect sign-in"));
  };
  $("token-silent").onclick = () => getToken(false).catch(failed("silent token"));
  $("token-force").onclick = () => getToken(true, undefined, "acquireTokenSilent (forceRefresh)").catch(failed("refresh"));
  $("skip-access").onclick = () => getToken(false, msal.CacheLookupPolicy.RefreshTokenAndNetwork,
    "acquireTokenSilent (access token ignored)").catch(failed("silent token"));
  $("skip-refresh").onclick = () => getToken(false, msal.CacheLookupPolicy.Skip,
    "acquireTokenSilent (refresh token ignored)").catch(failed("silent token"));
  $("end-session").onclick = () => {
    const a = account();
    if (!a) { status("Sign in first."); return; }
    const hint = (a.idTokenClaims && a.idTokenClaims.login_hint) || "";
    const frame = document.createElement("iframe");
    frame.hidden = true;
    frame.title = "Sigil sign-out";
    const finished = () => {
      frame.remove();
      status("Sigil's session has ended and its refresh tokens are revoked; MSAL still holds the cached tokens. " +
        "\"Get token silently\" still answers from the cache — \"Pretend the access token expired\" now falls back from the refresh token to the hidden iframe, and then to a popup.");
      log("Sigil session ended (hidden iframe, logout_hint)");
    };
    frame.onload = finished;
    frame.src = cfg.authority + "/oauth2/v2.0/logout?logout_hint=" + encodeURIComponent(hint);
    document.body.appendChild(frame);
  };
  $("call-me").onclick = async () => {
    try {
      const r = await getToken(false);
      const res = await fetch(cfg.publicUrl + "/v1.0/me", { headers: { Authorization: "Bearer " + r.accessToken } });
      show(await res.json());
      log("GET /v1.0/me → " + res.status);
    } catch (e) { failed("API call")(e); }
  };
  $("logout").onclick = () => {
    sessionStorage.setItem("sigil-demo.redirect", JSON.stringify({ call: "logoutRedirect", at: Date.now() }));
    status("Signing out…");
    pca.logoutRedirect({ account: account() }).catch(failed("sign-out"));
  };
})();
