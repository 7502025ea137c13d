import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type ConsoleAssets = ReadonlyMap<string, Asset>;

/**
 * The console's policy (CSP Level 3, https://www.w3.org/TR/CSP3/): scripts and styles only from
 * the gateway's own files, no inline script or style, no eval, no external host; data only from
 * the admin listener itself; never framed. Trusted Types (https://w3c.github.io/trusted-types/)
 * make the DOM's HTML sinks (innerHTML, insertAdjacentHTML, script text) throw, so a user id can
 * only ever reach the page as text.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const FILES: ReadonlyArray<[path: string, file: string, type: string]> = [
  ['/console', 'index.html', 'text/html; charset=utf-8'],
  ['/console/', 'index.html', 'text/html; charset=utf-8'],
  ['/console/console.js', 'console.js', 'text/javascript; charset=utf-8'],
  ['/console/console.css', 'console.css', 'text/css; charset=utf-8'],
];

/**
 * The console's files, read once at start-up from the package's `console/` directory (shipped
 * through package.json `files`): nothing is fetched from elsewhere, ever.
 */
export function loadConsoleAssets(dir = fileURLToPath(new URL('../../../console/', import.meta.url))): ConsoleAssets {
  const assets = new Map<string, Asset>();
  for (const [path, file, type] of FILES) {
    assets.set(path, {
      headers: {
        'content-type': type,
        'content-security-policy': CONSOLE_CSP,
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
      },
      body: readFileSync(`${dir}${file}`),
    });
  }
  return assets;
}
