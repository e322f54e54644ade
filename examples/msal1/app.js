// The MSAL 1.x snippets of Microsoft's "Single-page application: acquire a token to call an
// API" (the MSAL.js 1.x tab), as documented, each behind a button. Only the configuration is
// Sigil's: its authority and knownAuthorities, read from /config.js. Everything else would run
// the same against Microsoft Entra ID.
//
// The helpers at the bottom (show, callApi, ...) only put outcomes on the page.

// ---- Configuration: the one part that changes for Sigil ----------------------------------
var sigil = window.sigilConfig;
var userAgentApplication = new Msal.UserAgentApplication({
    auth: {
        clientId: sigil.clientId,
        authority: sigil.authority,
        knownAuthorities: [sigil.knownAuthority],
        redirectUri: sigil.origin + "/",
    },
    cache: { cacheLocation: "sessionStorage" },
});
// The optional-claims snippet names the same object myMSALObj.
var myMSALObj = userAgentApplication;

var accessTokenRequest = {
    scopes: ["user.read"],
};

// ---- Sign in (popup) -----------------------------------------------------------------------
function signIn() {
    begin("Sign in (popup)");
    userAgentApplication.loginPopup({ scopes: ["user.read"] }).then(function (loginResponse) {
        showResponse(loginResponse, "popup");
    }).catch(function (error) { showError(error); console.log(error); });
}

// ---- Get token: acquireTokenSilent, and acquireTokenPopup when interaction is required -----
function getToken() {
    begin("Get token (silent, then popup)");
    var silentStarted = performance.now();
    userAgentApplication.acquireTokenSilent(accessTokenRequest).then(function(accessTokenResponse) {
        showSilentTime(silentStarted);
        let accessToken = accessTokenResponse.accessToken;
        // call the API with the token
        showResponse(accessTokenResponse, accessTokenResponse.fromCache ? "cache" : "hidden iframe");
        callApi(accessToken);
    }).catch(function (error) {
        showSilentTime(silentStarted);
        showError(error);
        if (error.errorMessage.indexOf("interaction_required") !== -1) {
            userAgentApplication.acquireTokenPopup(accessTokenRequest).then(function(accessTokenResponse) {
                // call the API
                showResponse(accessTokenResponse, "popup");
                callApi(accessTokenResponse.accessToken);
            }).catch(function(error) { showError(error); console.log(error); });
        }
        console.log(error);
    });
}

// ---- The redirect variant: handleRedirectCallback, and acquireTokenRedirect in the catch ---
function authCallback(error, response) {
    // handle redirect response
    begin("the redirect response (handleRedirectCallback)");
    if (error) {
        showError(error);
        return;
    }
    showResponse(response, "redirect");
    if (response.accessToken) {
        callApi(response.accessToken);
    }
}

userAgentApplication.handleRedirectCallback(authCallback);

function signInRedirect() {
    begin("Sign in (redirect)");
    userAgentApplication.loginRedirect({ scopes: ["user.read"] });
}

function getTokenRedirect() {
    begin("Get token (silent, then redirect)");
    var silentStarted = performance.now();
    userAgentApplication.acquireTokenSilent(accessTokenRequest).then(function(accessTokenResponse) {
        showSilentTime(silentStarted);
        let accessToken = accessTokenResponse.accessToken;
        // call the API with the token
        showResponse(accessTokenResponse, accessTokenResponse.fromCache ? "cache" : "hidden iframe");
        callApi(accessToken);
    }).catch(function (error) {
        showSilentTime(silentStarted);
        showError(error);
        if (error.errorMessage.indexOf("interaction_required") !== -1) {
            userAgentApplication.acquireTokenRedirect(accessTokenRequest);
        }
        console.log(error);
    });
}

// ---- Optional claims: a claims request for auth_time ---------------------------------------
function signInWithClaims() {
    begin("Sign in with claims request (popup)");
    var request = {
        scopes: ["user.read"],
        claimsRequest: JSON.stringify({ id_token: { auth_time: { essential: true } } }),
    };
    myMSALObj.loginPopup(request).then(function (response) {
        showResponse(response, "popup");
    }).catch(function (error) { showError(error); console.log(error); });
}

function tokenWithClaims() {
    begin("Get token with claims request (popup)");
    var request = {
        // "openid" makes MSAL 1.x ask for an ID token too (response_type "id_token token"): with
        // resource scopes alone it asks for an access token only and hands back the cached ID
        // token, so the ID-token claims request would have nothing to show.
        scopes: ["openid", "user.read"],
        claimsRequest: JSON.stringify({ id_token: { auth_time: { essential: true } } }),
    };
    myMSALObj.acquireTokenPopup(request).then(function (response) {
        showResponse(response, "popup");
        callApi(response.accessToken);
    }).catch(function (error) { showError(error); console.log(error); });
}

// ---- Showing outcomes ----------------------------------------------------------------------
function el(testid) {
    return document.querySelector('[data-testid="' + testid + '"]');
}

function show(testid, value) {
    el(testid).textContent = value === undefined || value === null ? "" : String(value);
}

function log(message) {
    var li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + "  " + message;
    document.getElementById("log").prepend(li);
}

// begin clears the outcome of the previous action.
function begin(action) {
    show("action", action);
    ["token-source", "silent-ms", "api-result", "error-code", "error-message", "auth-time", "id-token-claims"]
        .forEach(function (testid) { show(testid, ""); });
    log(action);
}

function showAccount() {
    var account = userAgentApplication.getAccount();
    show("account", account ? account.userName : "");
}

function showSilentTime(started) {
    show("silent-ms", (performance.now() - started).toFixed(1));
}

function showResponse(response, source) {
    show("token-source", source);
    var claims = response.idTokenClaims || {};
    show("id-token-claims", JSON.stringify(claims, null, 2));
    show("auth-time", claims.auth_time);
    showAccount();
    log("token from " + source + (response.accessToken ? " (access token for " + response.scopes.join(" ") + ")" : " (ID token)"));
}

function showError(error) {
    show("error-code", error.errorCode || error.name);
    show("error-message", error.errorMessage || error.message);
    log("error: " + (error.errorCode || error.name) + ": " + (error.errorMessage || error.message));
}

// callApi calls the API (Sigil's GET /v1.0/me) with the access token as the bearer token.
function callApi(accessToken) {
    return fetch(sigil.apiUrl, { headers: { Authorization: "Bearer " + accessToken } })
        .then(function (res) {
            return res.text().then(function (body) {
                if (!res.ok) {
                    throw new Error("GET " + sigil.apiUrl + ": HTTP " + res.status + " " + body);
                }
                var me = JSON.parse(body);
                show("api-result", me.userPrincipalName);
                log("API: " + me.userPrincipalName);
            });
        })
        .catch(function (error) {
            show("api-result", "failed");
            showError(error);
        });
}

document.getElementById("sign-in").addEventListener("click", signIn);
document.getElementById("get-token").addEventListener("click", getToken);
document.getElementById("sign-in-redirect").addEventListener("click", signInRedirect);
document.getElementById("get-token-redirect").addEventListener("click", getTokenRedirect);
document.getElementById("sign-in-claims").addEventListener("click", signInWithClaims);
document.getElementById("token-claims").addEventListener("click", tokenWithClaims);
show("msal-version", Msal.version);
showAccount();
