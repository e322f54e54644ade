// Builds the MSAL 1.x example: a static site with no bundler. index.html loads /config.js (the
// settings), MSAL from /node_modules/msal/dist/msal.min.js (global Msal) and app.js; the server
// (examples/serve.mjs, or the test harness) serves the repository's node_modules beside it.
//
// Usage: node build.mjs <output directory>
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs <output directory>");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
// The page loads MSAL from /node_modules/: fail the build, not the page, when npm has not installed it.
const msal = resolve(here, "../../node_modules/msal/dist/msal.min.js");
if (!existsSync(msal)) {
  console.error(`Cannot find ${msal}: run \`npm ci\` in the repository root.`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
for (const f of ["index.html", "app.js", "app.css"]) {
  copyFileSync(join(here, f), join(out, f));
}
