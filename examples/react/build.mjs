// Builds the msal-react example into a static site with esbuild: app.js (the React app, JSX
// compiled by esbuild, React in production mode), bridge.js (msal-browser's redirect bridge as
// the global msalRedirectBridge, for redirect.html), and the HTML and CSS files as they are.
// index.html loads /config.js, the settings the server writes, before app.js.
//
// Usage: node build.mjs <output directory>
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs <output directory>");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(out);
mkdirSync(dir, { recursive: true });

const common = {
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
};
await esbuild.build({ ...common, entryPoints: [join(here, "src/main.jsx")], outfile: join(dir, "app.js"), jsx: "automatic" });
await esbuild.build({ ...common, entryPoints: [join(here, "src/bridge.js")], outfile: join(dir, "bridge.js"), globalName: "msalRedirectBridge" });
for (const f of ["index.html", "redirect.html", "app.css"]) {
  copyFileSync(join(here, f), join(dir, f));
}
