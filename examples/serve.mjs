// Serves one example app for `sigil dev`: builds it (node build.mjs dist) and serves dist/ over
// HTTPS on the port in the example's package.json ("config": {"port", "clientId"}), with the
// certificate `sigil dev` made for localhost, /config.js with the dev server's settings, the
// repository's node_modules under /node_modules/, and GET /api/headers (an unprotected API that
// says which Authorization header it got, for the interceptor examples).
//
// Run it from an example's folder: `npm start` does. Environment:
//   SIGIL_PUBLIC_URL  Sigil's public URL (default https://localhost:8443)
//   SIGIL_DATA_DIR    sigil dev's data folder (default ../../sigil-data, beside the repository's go.mod)
//   TODO_API_URL      examples/todo-api (default https://localhost:4000)
import { execFileSync } from "node:child_process";
import { createServer } from "node:https";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";

const here = process.cwd();
const root = resolve(here, "../..");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const { port, clientId } = pkg.config || {};
if (!port || !clientId) {
  console.error(`${pkg.name}: package.json needs "config": {"port": ..., "clientId": ...}`);
  process.exit(2);
}
const publicUrl = (process.env.SIGIL_PUBLIC_URL || "https://localhost:8443").replace(/\/$/, "");
const dataDir = resolve(root, process.env.SIGIL_DATA_DIR || "sigil-data");
const cert = join(dataDir, "tls", "tls.pem");
const key = join(dataDir, "tls", "tls-key.pem");
if (!existsSync(cert) || !existsSync(key)) {
  console.error(`No certificate in ${dataDir}/tls: start Sigil first with \`go run ./cmd/sigil dev\` in ${root}.`);
  process.exit(2);
}

const dist = join(here, "dist");
execFileSync(process.execPath, ["build.mjs", dist], { stdio: "inherit" });

const host = new URL(publicUrl).hostname;
const origin = `https://${host}:${port}`;
const settings = {
  authority: `${publicUrl}/contoso.test`,
  knownAuthority: new URL(publicUrl).host,
  clientId,
  origin,
  apiUrl: `${publicUrl}/v1.0/me`,
  todoApiUrl: process.env.TODO_API_URL || `https://${host}:4000`, // examples/todo-api
};
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json",
  ".json": "application/json", ".svg": "image/svg+xml" };

// file maps a request path into base, refusing anything that climbs out of it.
function file(base, path) {
  const p = normalize(join(base, decodeURIComponent(path)));
  if (!p.startsWith(base)) return null;
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, "index.html");
  return p;
}

createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const path = new URL(req.url, origin).pathname;
  if (path === "/config.js") {
    res.writeHead(200, { "Content-Type": types[".js"], "Cache-Control": "no-store" });
    res.end(`window.sigilConfig = ${JSON.stringify(settings)};\n`);
    return;
  }
  if (path === "/api/headers") { // an unprotected API on the app's origin, as the tests have it
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(JSON.stringify({ authorization: req.headers.authorization || "" }) + "\n");
    return;
  }
  let p = path.startsWith("/node_modules/")
    ? file(join(root, "node_modules"), path.slice("/node_modules/".length))
    : file(dist, path);
  if (p && !existsSync(p) && !extname(p)) p = join(dist, "index.html"); // client-side routes
  if (!p || !existsSync(p)) {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found\n");
    return;
  }
  res.writeHead(200, { "Content-Type": types[extname(p)] || "application/octet-stream", "Cache-Control": "no-store" });
  res.end(readFileSync(p));
}).listen(port, "127.0.0.1", () => {
  console.log(`\n  ${pkg.description || pkg.name}\n  ${origin}/   (Sigil at ${publicUrl}, client id ${clientId})\n`);
});
