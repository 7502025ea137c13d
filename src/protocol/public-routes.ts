/** Compiles "METHOD /path/*" patterns once, at start-up. */
export interface PublicRoutes {
  matches(method: string, path: string): boolean;
}

export function compilePublicRoutes(patterns: readonly string[]): PublicRoutes {
  const compiled = patterns.map((p) => {
    const space = p.indexOf(' ');
    const method = p.slice(0, space);
    const path = p.slice(space + 1);
    const source = path
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/:]+');
    return { method, re: new RegExp(`^${source}$`) };
  });
  return {
    matches(method, path) {
      for (const c of compiled) {
        if (c.method !== '*' && c.method !== method && !(c.method === 'GET' && method === 'HEAD')) continue;
        if (c.re.test(path)) return true;
      }
      return false;
    },
  };
}
