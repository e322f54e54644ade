// MSAL's configuration. Everything Sigil-specific comes from window.sigilConfig, which
// /config.js sets: the dev server (examples/serve.mjs) writes it for `sigil dev`, the browser
// tests write their own.
import { LogLevel } from "@azure/msal-browser";

export const sigil = window.sigilConfig;

export const msalConfig = {
  auth: {
    clientId: sigil.clientId,
    authority: sigil.authority, // https://localhost:8443/contoso.test
    knownAuthorities: [sigil.knownAuthority], // "localhost:8443": with the port
    // Popups and the hidden iframe end on this page, which hands the response to this
    // window through msal-browser's redirect bridge.
    redirectUri: sigil.origin + "/redirect.html",
  },
  cache: { cacheLocation: "sessionStorage" },
  system: {
    loggerOptions: {
      logLevel: LogLevel.Warning,
      loggerCallback: (level, message, containsPii) => {
        if (!containsPii) console.warn(message);
      },
    },
  },
};

// Scopes for sign-in and for the API (Sigil's GET /v1.0/me, the profile API).
export const loginRequest = { scopes: ["User.Read"] };
export const apiScopes = ["User.Read"];
// Scopes for examples/todo-api (sigil.todoApiUrl), which accepts tokens for api://todo.
export const todoScopes = ["api://todo/Todo.Read"];
