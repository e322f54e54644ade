// Playwright against `sigil dev`: the demo SPA on https://localhost:3000 and Sigil on
// https://localhost:8443 unless SIGIL_DEMO_URL / SIGIL_URL say otherwise. The certificates come
// from Sigil's local CA, which this browser does not trust, hence ignoreHTTPSErrors. CHROMIUM
// points Playwright at an installed Chromium (Debian's /usr/bin/chromium) instead of one it
// downloads with `npx playwright install chromium`.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  timeout: 60_000,
  retries: 0,
  workers: 1, // the tests share one Sigil and reset it between them
  reporter: process.env.CI ? "line" : "list",
  use: {
    baseURL: process.env.SIGIL_DEMO_URL || "https://localhost:3000",
    ignoreHTTPSErrors: true,
    trace: "retain-on-failure",
    launchOptions: process.env.CHROMIUM ? { executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] } : {},
  },
});
