/**
 * The console's static files: the page (`/`), its stylesheet, and the ES modules `tsc -b` compiles
 * from `packages/server/console/src` into `packages/server/dist/console-ui/`. They are read once,
 * kept in memory with a gzipped copy and an ETag, and served under a strict CSP.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CONSOLE_CSS } from './styles.js';

/**
 * The console page's policy: scripts, styles and connections only from this server; nothing
 * inline; no frames, plugins, base or form targets; and Trusted Types required with no policy,
 * so the browser itself refuses any string assigned to an HTML sink (innerHTML and the like).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

export interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

/** Where the compiled modules are: the package's `dist/console-ui`, from `src/console` or `dist/console` alike. */
export const CONSOLE_UI_DIR = fileURLToPath(new URL('../../dist/console-ui/', import.meta.url));

function asset(body: Buffer, type: string): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const gzip = body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
  return { body, gzip, type, etag };
}

export interface ConsoleAssets {
  /** The page, or undefined when the modules are not built. */
  index: Asset;
  /** By file name: `console.css`, `main.js`, … */
  files: Map<string, Asset>;
  built: boolean;
}

function page(version: string, modules: string[]): string {
  const preload = modules
    .filter((name) => name !== 'main.js')
    .map((name) => `<link rel="modulepreload" href="/console/assets/${name}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>longrun console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css?v=${version}">
${preload}
<script type="module" src="/console/assets/main.js?v=${version}"></script>
</head>
<body>
<div id="app"><main><p class="boot">Loading the longrun console…</p></main></div>
<noscript><p>The longrun console needs JavaScript.</p></noscript>
</body>
</html>
`;
}

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>longrun console</title><link rel="stylesheet" href="/console/assets/console.css"></head>
<body><main><h1>The console is not built</h1>
<p>Its scripts are compiled with the rest of longrun: run <code>npm run build</code> (<code>tsc -b</code>) in the repository, then reload.</p>
</main></body>
</html>
`;

/** Reads the assets (once per process). */
export function loadConsoleAssets(dir = CONSOLE_UI_DIR): ConsoleAssets {
  const files = new Map<string, Asset>();
  files.set('console.css', asset(Buffer.from(CONSOLE_CSS, 'utf8'), 'text/css; charset=utf-8'));
  const modules = existsSync(dir) ? readdirSync(dir).filter((name) => /^[a-z][a-z0-9-]*\.js$/.test(name)) : [];
  modules.sort();
  for (const name of modules) {
    files.set(name, asset(readFileSync(`${dir}/${name}`), 'text/javascript; charset=utf-8'));
  }
  const built = files.has('main.js');
  const version = createHash('sha256')
    .update([...files.values()].map((file) => file.etag).join())
    .digest('base64url')
    .slice(0, 10);
  const html = built ? page(version, modules) : NOT_BUILT;
  return { index: asset(Buffer.from(html, 'utf8'), 'text/html; charset=utf-8'), files, built };
}
