// The demo SPA of `sigil dev`, driven as a user would, with Sigil scripted through its
// test-control API: sign-in by popup, silent tokens, a forced error that makes the app fall
// back to a popup, and a user created for the test.
import { test, expect } from "@playwright/test";
import { control, signIn, demoUser, demoClientId } from "./sigil.mjs";


test.beforeEach(async ({ request }) => {
  await control(request, "POST", "/reset");
});

async function loginPopup(page, user) {
  const popup = page.waitForEvent("popup");
  await page.locator("#login-popup").click();
  await signIn(await popup, user);
  await expect(page.locator("#account")).toContainText(user.username);
}

test("signs in by popup and gets tokens silently", async ({ page }) => {
  await page.goto("/");
  await loginPopup(page, demoUser);
  await page.locator("#skip-access").click();
  await expect(page.locator("#timeline tbody tr").first()).toHaveAttribute("data-path", "refresh token");
  await page.locator("#skip-refresh").click();
  await expect(page.locator("#timeline tbody tr").first()).toHaveAttribute("data-path", "hidden iframe");
});

test("a forced login_required makes the app fall back to a popup", async ({ page, request }) => {
  await page.goto("/");
  await loginPopup(page, demoUser);
  await control(request, "POST", "/failures", { clientId: demoClientId, error: "login_required" });
  const popup = page.waitForEvent("popup");
  await page.locator("#skip-refresh").click(); // straight to the hidden iframe, which fails
  await popup; // Sigil's session is still there, so the popup signs in without a page
  await expect(page.locator("#timeline tbody tr").first()).toHaveAttribute("data-path", "popup");
  await expect(page.locator("#log")).toContainText("falling back to a popup");
});

test("a user created for the test signs in", async ({ page, request }) => {
  const user = { username: "playwright@contoso.test", password: "Passw0rd!pw" };
  await control(request, "POST", "/users", { tenant: "contoso.test", ...user, displayName: "Play Wright" });
  await page.goto("/");
  await loginPopup(page, user);
  await expect(page.locator("#id-claims")).toContainText("Play Wright");
});
