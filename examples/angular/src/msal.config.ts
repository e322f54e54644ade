// MSAL for Angular, configured the documented way: factories for MSAL_INSTANCE,
// MSAL_GUARD_CONFIG and MSAL_INTERCEPTOR_CONFIG. Everything Sigil-specific comes from
// window.sigilConfig, which /config.js sets (the dev server writes it for `sigil dev`, the
// browser tests write their own).
import {
  BrowserCacheLocation,
  InteractionType,
  IPublicClientApplication,
  LogLevel,
  PublicClientApplication,
} from "@azure/msal-browser";
import { MsalGuardConfiguration, MsalInterceptorConfiguration } from "@azure/msal-angular";

declare global {
  interface Window {
    sigilConfig: { authority: string; knownAuthority: string; clientId: string; origin: string; apiUrl: string };
  }
}

export const sigil = window.sigilConfig;

// The scopes of the API, Sigil's GET /v1.0/me (the signed-in user's profile).
export const apiScopes = ["user.read"];

export function MSALInstanceFactory(): IPublicClientApplication {
  return new PublicClientApplication({
    auth: {
      clientId: sigil.clientId,
      authority: sigil.authority, // https://localhost:8443/contoso.test
      knownAuthorities: [sigil.knownAuthority], // "localhost:8443": with the port
      // Popups and the hidden iframe end on this page, which hands the response to this
      // window through msal-browser's redirect bridge.
      redirectUri: sigil.origin + "/redirect.html",
    },
    cache: { cacheLocation: BrowserCacheLocation.SessionStorage },
    system: {
      loggerOptions: {
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message, containsPii) => {
          if (!containsPii) console.warn(message);
        },
      },
    },
  });
}

// MsalGuard signs the user in by popup before a guarded route renders.
export function MSALGuardConfigFactory(): MsalGuardConfiguration {
  return { interactionType: InteractionType.Popup, authRequest: { scopes: apiScopes } };
}

// MsalInterceptor adds "Authorization: Bearer <token>" to HttpClient requests for the URLs of
// the map (and only those): acquireTokenSilent first, a popup when that fails.
export function MSALInterceptorConfigFactory(): MsalInterceptorConfiguration {
  const protectedResourceMap = new Map<string, Array<string>>();
  protectedResourceMap.set(sigil.apiUrl, apiScopes);
  return { interactionType: InteractionType.Popup, protectedResourceMap, strictMatching: true };
}
