// Helpers for a suite against Sigil: its test-control API and its login UI contract.
import { expect } from "@playwright/test";

export const sigilURL = process.env.SIGIL_URL || "https://localhost:8443";
export const demoUser = { username: "alice@contoso.test", password: "Passw0rd!alice" };
export const demoClientId = "5161d3e0-0000-4000-8000-0000000005ba";

// control calls the test-control API (on in sigil dev); SIGIL_CONTROL_TOKEN for a server with
// testing.controlToken.
export async function control(request, method, path, data) {
  const headers = process.env.SIGIL_CONTROL_TOKEN ? { Authorization: `Bearer ${process.env.SIGIL_CONTROL_TOKEN}` } : {};
  const res = await request.fetch(`${sigilURL}/-/test${path}`, { method, data, headers, ignoreHTTPSErrors: true });
  expect(res.ok(), `${method} /-/test${path}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

// signIn completes Sigil's pages in page (a popup or a redirected tab) by the contract's
// selectors: the sign-in form, then the consent page when it comes.
export async function signIn(page, { username, password }) {
  await page.locator("input[name=username]").fill(username);
  await page.locator("input[name=password]").fill(password);
  await page.locator("button[type=submit]").click();
  const consent = page.locator("button[name=consent][value=accept]");
  await Promise.race([
    consent.waitFor({ timeout: 15_000 }).then(() => consent.click()),
    page.waitForEvent("close", { timeout: 15_000 }),
  ]).catch(() => {});
}
