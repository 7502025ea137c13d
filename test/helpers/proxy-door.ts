import { createProxyServer, type ProxyDeps, type ProxyDoor } from '../../src/adapters/proxy/proxy-server.js';

export interface ListeningDoor {
  readonly door: ProxyDoor;
  readonly url: string;
  close(): Promise<void>;
}

/** The proxy door alone over a test's own pipeline, listening on 127.0.0.1 port 0. */
export async function listenProxyDoor(deps: ProxyDeps): Promise<ListeningDoor> {
  const door = createProxyServer(deps);
  await new Promise<void>((resolve) => door.server.listen(0, '127.0.0.1', resolve));
  return {
    door,
    url: `http://127.0.0.1:${(door.server.address() as { port: number }).port}`,
    close: async () => {
      await door.stopAccepting();
      await door.close();
    },
  };
}
