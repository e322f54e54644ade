// The settings of this deployment, from /config.js (window.sigilConfig): the only values that
// differ from the documented app.
export interface SigilConfig {
  authority: string;      // https://localhost:8443/contoso.test
  knownAuthority: string; // localhost:8443, with the port
  clientId: string;
  origin: string;         // this app's origin; the redirect URI is origin + "/"
  apiUrl: string;         // Sigil's profile API, GET /v1.0/me (scope user.read)
}

export const sigil: SigilConfig = (window as any).sigilConfig;
