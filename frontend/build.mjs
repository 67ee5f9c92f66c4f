// The page's build: src/main.js and src/styles.css bundled by esbuild (with the npm libraries they
// import) into dist/, next to index.html, which names the bundles by content hash so a CDN may cache
// them for a year. Nothing is fetched at run time. `npm run build` (make install runs it).
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

await rm(dist, { recursive: true, force: true });
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
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const name = basename(output);
  const plain = name.replace(/-[A-Z0-9]{8}\./, ".");
  html = html.replace(`"${plain}"`, `"${name}"`);
}
await writeFile(join(dist, "index.html"), html);

await copyFile(join(here, "favicon.svg"), join(dist, "favicon.svg"));
console.log(`frontend built into ${dist}`);
