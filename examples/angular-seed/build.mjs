// Builds the msal-angular 1.x example into a static site, without the Angular CLI:
//
//  1. tsc (TypeScript 3.8, which Angular 9 supports) compiles src/ into a temporary folder,
//     with experimentalDecorators and emitDecoratorMetadata: Angular 9's JIT compiler reads
//     the constructor parameter types of components and services from that metadata
//     (esbuild alone would not emit it);
//  2. esbuild bundles that output with Angular, msal-angular, msal, rxjs and zone.js into
//     app.js, in JIT mode (the bundle carries @angular/compiler, which compiles the templates in
//     the browser);
//  3. index.html and app.css are copied as they are. index.html loads /config.js, the settings
//     the server writes, before app.js.
//
// Usage: node build.mjs <output directory>
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
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

const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const compiled = mkdtempSync(join(tmpdir(), "angular-seed-tsc-"));
try {
  try {
    execFileSync(process.execPath, [tsc, "-p", join(here, "tsconfig.json"), "--outDir", compiled], { stdio: "inherit" });
  } catch {
    console.error("tsc failed");
    process.exit(1);
  }
  await esbuild.build({
    entryPoints: [join(compiled, "main.js")],
    outfile: join(dir, "app.js"),
    bundle: true,
    format: "iife",
    target: "es2017",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
    // The compiled files sit outside the repository: resolve their imports from this
    // example's packages (and the workspace root, where npm hoists shared ones).
    nodePaths: [join(here, "node_modules"), resolve(here, "../../node_modules")],
    // Angular 9 packages: the ES2015 bundles (fesm2015), not the ES5 ones.
    mainFields: ["es2015", "browser", "module", "main"],
    // zone.js cannot see native async/await: keep it lowered to generators.
    supported: { "async-await": false },
    // minimatch (msal-angular's) asks for Node's path module; the browser has none to give.
    alias: { path: join(here, "src/no-path.js") },
  });
} finally {
  rmSync(compiled, { recursive: true, force: true });
}
for (const f of ["index.html", "app.css"]) {
  copyFileSync(join(here, f), join(dir, f));
}
