/**
 * The bytes all request bodies in flight may hold together (`server.maxBodyBytesInFlight`), one
 * budget for every HTTP door of the process. Bytes are reserved as they arrive, never from a
 * declared Content-Length: a client that declares 10 MiB and stalls holds what it sent, so a few
 * sockets cannot take the budget from everyone else.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}
