/**
 * Reads Envoy's `x-forwarded-client-cert` (XFCC) header
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert):
 * elements separated by `,`, each a `;`-separated list of `Key=Value` pairs, where a value may be
 * double-quoted (`Subject="CN=a,O=b"`) with `\"` inside quotes. Each proxy that terminates mTLS
 * appends one element for its own client (APPEND_FORWARD) or replaces the header (SANITIZE_SET),
 * and removes it when the connection carried no client certificate; so the last element is the
 * one the nearest proxy, our sidecar, wrote.
 */
export interface XfccElement {
  readonly by: readonly string[];
  readonly uri: readonly string[];
}

/** Splits on `sep` outside double quotes; undefined when a quote is left open. */
function splitOutsideQuotes(text: string, sep: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return undefined;
  out.push(text.slice(start));
  return out;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(.)/g, '$1')
    : value;
}

/** The last element of an XFCC header, or undefined when the header is absent or malformed. */
export function lastXfccElement(header: string | undefined): XfccElement | undefined {
  if (header === undefined || header.length === 0 || header.length > 16384) return undefined;
  const elements = splitOutsideQuotes(header, ',');
  const last = elements?.[elements.length - 1]?.trim();
  if (!last) return undefined;
  const pairs = splitOutsideQuotes(last, ';');
  if (!pairs) return undefined;
  const by: string[] = [];
  const uri: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const key = pair.slice(0, eq).trim().toLowerCase();
    const value = unquote(pair.slice(eq + 1).trim());
    if (key === 'by') by.push(value);
    else if (key === 'uri') uri.push(value);
  }
  return { by, uri };
}
