// Builds the console's static files (docs/console.md#the-build): src/main.js and app.css bundled and minified by
// esbuild, index.html compacted, into Functions/Console/wwwroot/ (or the folder given as the first argument). The output
// depends only on the sources and the pinned packages (no timestamps, no source maps), so a rebuild is byte for byte
// the committed wwwroot; a test checks it.
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, '..', 'wwwroot'));

await mkdir(out, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});
await build({
  absWorkingDir: here,
  entryPoints: { app: 'app.css' },
  outdir: out,
  bundle: true,
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});
// index.html with the white space between its tags taken out.
const page = await readFile(path.join(here, 'index.html'), 'utf8');
await writeFile(path.join(out, 'index.html'), `${page.replace(/>\s+</g, '><').trim()}\n`);
