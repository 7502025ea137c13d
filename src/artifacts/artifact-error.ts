/** Why an artifact check failed; `kind` is stable (metrics label, exit reasons), the message names the path. */
export type ArtifactErrorKind =
  'manifest_invalid' | 'unsafe_path' | 'unreadable' | 'bad_key' | 'bad_signature_encoding' | 'signature_mismatch';

export class ArtifactError extends Error {
  constructor(
    readonly kind: ArtifactErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ArtifactError';
  }
}
