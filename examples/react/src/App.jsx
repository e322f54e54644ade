import { useState } from "react";
import { AuthenticatedTemplate, UnauthenticatedTemplate, useMsal, version as msalReactVersion } from "@azure/msal-react";
import { InteractionRequiredAuthError, version as msalBrowserVersion } from "@azure/msal-browser";
import { apiScopes, loginRequest, sigil, todoScopes } from "./authConfig.js";

// What the last button press did; each field shows in an element with a data-testid.
const empty = {
  action: "", // the button
  tokenSource: "", // "cache", "network" (refresh token or hidden iframe) or "popup"
  fromCache: "", // AuthenticationResult.fromCache of the token the API got
  silentMs: "", // how long acquireTokenSilent took, in milliseconds
  silentError: "", // acquireTokenSilent's error: errorCode
  silentErrorType: "", // "InteractionRequiredAuthError" when it is one
  apiStatus: "",
  apiResult: "", // userPrincipalName from the API
  errorCode: "", // the error that ended the action
  errorMessage: "",
  claimsChallenge: "", // the claims a Todo API challenge asked for, when it sent one
  todoResult: "", // the Todo API's answer
};

export function App() {
  const { instance, accounts, inProgress } = useMsal();
  const [outcome, setOutcome] = useState(empty);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(0); // completed actions, so a test can wait for the next
  const account = instance.getActiveAccount() || accounts[0];

  async function run(action, fn) {
    setBusy(true);
    let o = { ...empty, action };
    const update = (fields) => { o = { ...o, ...fields }; setOutcome(o); };
    update({});
    try {
      await fn(update);
    } catch (e) {
      update({ errorCode: e.errorCode || e.name || "error", errorMessage: e.errorMessage || e.message || String(e) });
    } finally {
      setBusy(false);
      setDone((n) => n + 1);
    }
  }

  const signIn = () => run("Sign in", async () => {
    const result = await instance.loginPopup(loginRequest);
    instance.setActiveAccount(result.account);
  });

  // The documented pattern: acquireTokenSilent, and acquireTokenPopup when (and only when) the
  // silent call fails with an InteractionRequiredAuthError; then the API with the access token.
  const callApi = () => run("Call API", async (update) => {
    const request = { scopes: apiScopes, account };
    let result;
    const t0 = performance.now();
    try {
      result = await instance.acquireTokenSilent(request);
      update({ silentMs: Math.round(performance.now() - t0), tokenSource: result.fromCache ? "cache" : "network" });
    } catch (e) {
      update({ silentMs: Math.round(performance.now() - t0), silentError: e.errorCode || e.name,
        silentErrorType: e instanceof InteractionRequiredAuthError ? "InteractionRequiredAuthError" : e.name });
      if (!(e instanceof InteractionRequiredAuthError)) throw e;
      result = await instance.acquireTokenPopup(request);
      update({ tokenSource: "popup" });
    }
    update({ fromCache: String(result.fromCache) });
    const res = await fetch(sigil.apiUrl, { headers: { Authorization: `Bearer ${result.accessToken}` } });
    const body = await res.json();
    update({ apiStatus: String(res.status), apiResult: body.userPrincipalName || "" });
    if (!res.ok) update({ errorCode: body.error?.code || String(res.status), errorMessage: body.error?.message || "" });
  });

  // examples/todo-api: the same pattern, and when the API answers 401 with a claims challenge
  // (error="insufficient_claims"), the challenge's claims go, decoded, to acquireTokenSilent,
  // which gets a token meeting them (through the refresh token), and the call is made again.
  const callTodoApi = () => run("Call Todo API", async (update) => {
    const request = { scopes: todoScopes, account };
    const token = async (extra) => {
      try {
        return await instance.acquireTokenSilent({ ...request, ...extra });
      } catch (e) {
        if (!(e instanceof InteractionRequiredAuthError)) throw e;
        return instance.acquireTokenPopup({ ...request, ...extra });
      }
    };
    const call = (t) => fetch(sigil.todoApiUrl + "/todos", { headers: { Authorization: `Bearer ${t.accessToken}` } });
    let res = await call(await token({}));
    const challenge = res.headers.get("WWW-Authenticate") || "";
    const m = /error="insufficient_claims"/.test(challenge) && /claims="([^"]+)"/.exec(challenge);
    if (res.status === 401 && m) {
      const claims = atob(m[1]);
      update({ claimsChallenge: claims });
      res = await call(await token({ claims }));
    }
    update({ apiStatus: String(res.status), todoResult: await res.text() });
  });

  return (
    <>
      <header>
        <h1>msal-react example</h1>
        <p>
          @azure/msal-react <span data-testid="msal-react-version">{msalReactVersion}</span> on React 19 with
          @azure/msal-browser <span data-testid="msal-version">{msalBrowserVersion}</span>, signing in against
          Sigil at <code>{sigil.authority}</code>. MSAL is <span data-testid="in-progress">{inProgress}</span>.
        </p>
      </header>
      <main>
        <section className="buttons">
          <UnauthenticatedTemplate>
            <p>You are not signed in.</p>
            <button id="sign-in" type="button" onClick={signIn} disabled={busy}>Sign in (popup)</button>
          </UnauthenticatedTemplate>
          <AuthenticatedTemplate>
            <p>Signed in as <strong data-testid="account">{account?.username}</strong>.</p>
            <button id="call-api" type="button" onClick={callApi} disabled={busy}>Call API</button>
            <button id="call-todo-api" type="button" onClick={callTodoApi} disabled={busy}>Call Todo API</button>
          </AuthenticatedTemplate>
        </section>
        <section>
          <h2>Outcome of <span data-testid="action">{outcome.action}</span></h2>
          <dl>
            <dt>Token source</dt><dd data-testid="token-source">{outcome.tokenSource}</dd>
            <dt>fromCache</dt><dd data-testid="from-cache">{outcome.fromCache}</dd>
            <dt>acquireTokenSilent took (ms)</dt><dd data-testid="silent-ms">{outcome.silentMs}</dd>
            <dt>acquireTokenSilent error</dt>
            <dd className="err"><span data-testid="silent-error">{outcome.silentError}</span>{" "}
              <span data-testid="silent-error-type">{outcome.silentErrorType}</span></dd>
            <dt>API status</dt><dd data-testid="api-status">{outcome.apiStatus}</dd>
            <dt>API result (userPrincipalName)</dt><dd data-testid="api-result">{outcome.apiResult}</dd>
            <dt>Todo API answer</dt><dd data-testid="todo-result">{outcome.todoResult}</dd>
            <dt>Claims challenge</dt><dd data-testid="claims-challenge">{outcome.claimsChallenge}</dd>
            <dt>Error code</dt><dd data-testid="error-code" className="err">{outcome.errorCode}</dd>
            <dt>Error message</dt><dd data-testid="error-message" className="err">{outcome.errorMessage}</dd>
            <dt>Actions done</dt><dd data-testid="done">{done}</dd>
          </dl>
        </section>
      </main>
    </>
  );
}
