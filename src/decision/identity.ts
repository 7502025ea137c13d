/** Who is calling, once the token verified. Claims are the verified payload. */
export interface Identity {
  readonly issuer: string;
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
}
