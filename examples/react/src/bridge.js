// The redirect bridge, bundled as the global msalRedirectBridge for redirect.html: popups and
// the hidden iframe land there and it hands MSAL's response to the window that asked.
export { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";
