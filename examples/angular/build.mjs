// Builds the msal-angular example into a static site with esbuild: app.js (the Angular app in
// JIT mode: the bundle carries @angular/compiler, which compiles the templates in the browser),
// bridge.js (msal-browser's redirect bridge as the global msalRedirectBridge, for
// redirect.html), and the HTML and CSS files as they are. index.html loads /config.js, the
// settings the server writes, before app.js.
//
// esbuild compiles the TypeScript decorators (tsconfig.json: experimentalDecorators) but emits
// no decorator metadata, so the app's classes get their dependencies with inject(), never
// through constructor parameters.
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

const common = { bundle: true, format: "iife", target: "es2022", minify: true, sourcemap: true, logLevel: "warning" };
await esbuild.build({
  ...common,
  entryPoints: [join(here, "src/main.ts")],
  outfile: join(dir, "app.js"),
  tsconfig: join(here, "tsconfig.json"),
  // zone.js cannot see native async/await: lower it to generators, as Angular's own build does.
  supported: { "async-await": false },
  // Production mode; ngJitMode stays on for the in-browser compiler.
  define: { ngDevMode: "false", ngJitMode: "true", ngServerMode: "false", ngI18nClosureMode: "false" },
});
await esbuild.build({ ...common, entryPoints: [join(here, "src/bridge.js")], outfile: join(dir, "bridge.js"), globalName: "msalRedirectBridge" });
for (const f of ["index.html", "redirect.html", "app.css"]) {
  copyFileSync(join(here, f), join(dir, f));
}
