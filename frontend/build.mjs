// Builds the map application into dist/: src/main.js and src/style.css are
// bundled and minified into dist/assets/ under content-hashed names (so the
// server can let browsers cache them forever), each with a gzipped copy the
// server sends to clients that accept it, and dist/index.html is written from
// src/index.html with the hashed names filled in. The API documentation page
// (Swagger UI from swagger-ui-dist, served at /api/docs) is built the same way
// from src/apidocs.{js,css,html} into dist/apidocs.html.
//
// Usage: node build.mjs   (npm run build)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { gzipSync, constants as zlib } from 'node:zlib';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const assets = join(dist, 'assets');

// Empty dist/ but keep .gitkeep, which go:embed needs on a fresh clone.
await mkdir(dist, { recursive: true });
for (const name of await readdir(dist)) {
  if (name !== '.gitkeep') await rm(join(dist, name), { recursive: true, force: true });
}

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/main.js', 'src/style.css', 'src/apidocs.js', 'src/apidocs.css'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2021'], // browsers from 2021 on: Chrome 85, Firefox 79, Safari 14
  // Leaflet's CSS refers to its control and marker images.
  loader: { '.png': 'file', '.svg': 'file' },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

// Map each entry point to the file esbuild wrote for it.
const outputFor = {};
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) outputFor[meta.entryPoint] = '/' + relative(dist, join(root, out)).split('\\').join('/');
}
const script = outputFor['src/main.js'];
const style = outputFor['src/style.css'];
const docsScript = outputFor['src/apidocs.js'];
const docsStyle = outputFor['src/apidocs.css'];
if (!script || !style || !docsScript || !docsStyle) throw new Error('build: an entry point produced no output');

// The licences of the bundled packages ask for their notices to travel with
// the code; minifying drops most of them, so they go in a file of their own.
const licenses = await thirdPartyLicenses();

// The icon, content-hashed like the rest (browsers ask /favicon.ico, a 404, without it).
const favicon = await hashedCopy('src/favicon.svg');

await writePage('src/index.html', 'index.html', style, script);
await writePage('src/apidocs.html', 'apidocs.html', docsStyle, docsScript);

// Precompress text assets once here rather than on every request.
let total = 0;
let totalGzip = 0;
for (const name of await readdir(assets)) {
  if (!/\.(js|css|svg|txt)$/.test(name)) continue;
  const body = await readFile(join(assets, name));
  const gz = gzipSync(body, { level: zlib.Z_BEST_COMPRESSION });
  await writeFile(join(assets, name + '.gz'), gz);
  total += body.length;
  totalGzip += gz.length;
  console.log(`  ${basename(name).padEnd(32)} ${kb(body.length).padStart(9)}  gzip ${kb(gz.length).padStart(9)}`);
}
console.log(`  ${'total'.padEnd(32)} ${kb(total).padStart(9)}  gzip ${kb(totalGzip).padStart(9)}`);

// thirdPartyLicenses writes the licence of every package the bundle
// includes (as esbuild's metafile lists them) to a content-hashed file in
// dist/assets and returns its URL path.
async function thirdPartyLicenses() {
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = input.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (m) packages.add(m[1]);
  }
  let text = 'Third-party software in the incidentmap map application\n';
  for (const name of [...packages].sort()) {
    const dir = join(root, 'node_modules', name);
    const meta = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const file = (await readdir(dir)).find((f) => /^(license|licence|mit-licen[cs]e)/i.test(f));
    if (!file) throw new Error(`build: no licence file in ${name}`);
    text += `\n==== ${name} ${meta.version} (${meta.license || 'see below'}) ====\n\n`;
    text += (await readFile(join(dir, file), 'utf8')).trim() + '\n';
    // A package that ships a bundle lists the notices of what it bundled
    // beside it (webpack's *.LICENSE.txt); they travel with it.
    for (const f of (await readdir(dir)).filter((f) => f.endsWith('.LICENSE.txt')).sort()) {
      const input = Object.keys(result.metafile.inputs).find((i) => i.endsWith(`${name}/${f.replace(/\.LICENSE\.txt$/, '')}`));
      if (!input) continue;
      text += `\n---- bundled in ${name}/${f.replace(/\.LICENSE\.txt$/, '')} ----\n\n`;
      text += (await readFile(join(dir, f), 'utf8')).trim() + '\n';
    }
  }
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();
  const name = `third-party-licenses-${hash}.txt`;
  await writeFile(join(assets, name), text);
  return `/assets/${name}`;
}

// writePage fills a page template's placeholders with the hashed asset
// names and writes it to dist/.
async function writePage(source, target, pageStyle, pageScript) {
  const template = await readFile(join(root, source), 'utf8');
  const html = template
    .replace('{{FAVICON}}', favicon)
    .replace('{{STYLE}}', pageStyle)
    .replace('{{SCRIPT}}', pageScript)
    .replace('{{LICENSES}}', licenses);
  if (html.includes('{{')) throw new Error(`build: ${source} has an unknown placeholder`);
  await writeFile(join(dist, target), html);
}

function kb(n) {
  return (n / 1024).toFixed(1) + ' KB';
}

// hashedCopy copies a source file into dist/assets under a content-hashed
// name and returns its URL path.
async function hashedCopy(source) {
  const body = await readFile(join(root, source));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8).toUpperCase();
  const name = basename(source).replace(/(\.[^.]+)$/, `-${hash}$1`);
  await writeFile(join(assets, name), body);
  return `/assets/${name}`;
}
