/**
 * The bytes all request bodies in flight may hold together (`server.maxBodyBytesInFlight`).
 * A body reserves its declared length before a byte is read (chunked bodies reserve as they
 * grow), so memory held by uploads is bounded whatever the clients do.
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
