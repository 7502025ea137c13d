// IETF draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` lists every window
// ("name";q=quota;w=seconds), `RateLimit` describes the most constrained one ("name";r=remaining;t=reset).

export interface WindowDescription {
  readonly name: string;
  readonly predictions: number;
  readonly perSeconds: number;
}

export function rateLimitPolicy(windows: readonly WindowDescription[]): string {
  return windows.map((w) => `"${w.name}";q=${w.predictions};w=${w.perSeconds}`).join(', ');
}

export function rateLimit(name: string, remaining: number, resetMs: number): string {
  return `"${name}";r=${Math.max(0, remaining)};t=${Math.max(0, Math.ceil(resetMs / 1000))}`;
}
