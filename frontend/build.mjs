// The page's build: src/main.js and src/styles.css bundled by esbuild (with the npm libraries they
// import) into dist/, next to index.html, which names the bundles by content hash so a CDN may cache
// them for a year. Nothing is fetched at run time. `npm run build` (make install runs it).
//
// A build never takes away what a page being loaded needs: the new bundles have new names, index.html
// is replaced in one rename, and bundles no index names any more are removed only an hour after
// they stopped being named (a test or a dev server may be serving the old index while this runs).
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const STALE_MS = 60 * 60 * 1000;

await mkdir(dist, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.js"), styles: join(here, "src/styles.css") },
  outdir: dist,
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  splitting: false,
  minify: true,
  sourcemap: "linked",
  target: ["es2022", "chrome111", "firefox115", "safari16"],
  legalComments: "linked", // the libraries' licence notices travel with the bundle
  metafile: true,
  logLevel: "warning",
});

// index.html names "app.js" and "styles.css"; point it at the hashed files just written.
let html = await readFile(join(here, "index.html"), "utf8");
const current = new Set(["index.html", "favicon.svg"]);
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  const name = basename(output);
  current.add(name);
  if (!meta.entryPoint) continue;
  const plain = name.replace(/-[A-Z0-9]{8}\./, ".");
  html = html.replace(`"${plain}"`, `"${name}"`);
}
for (const name of [...current]) current.add(`${name}.LEGAL.txt`);

// The bundles the index being replaced names start their hour now: a page may be loading them.
const now = Date.now();
try {
  const previous = await readFile(join(dist, "index.html"), "utf8");
  for (const [name] of previous.matchAll(/(?:app|styles)-[A-Z0-9]{8}\.(?:js|css)/g)) {
    await utimes(join(dist, name), now / 1000, now / 1000).catch(() => {});
  }
} catch {
  // no index yet: the first build
}

await copyFile(join(here, "favicon.svg"), join(dist, "favicon.svg"));
const next = join(dist, `.index-${process.pid}.html`);
await writeFile(next, html);
await rename(next, join(dist, "index.html"));

for (const name of await readdir(dist)) {
  if (current.has(name)) continue;
  const path = join(dist, name);
  if (now - (await stat(path)).mtimeMs > STALE_MS) await rm(path, { force: true });
}
console.log(`frontend built into ${dist}`);
