import { isAbsolute, relative } from 'node:path';
import { s, type Problem } from '../schema-dsl.js';

const absolutePath = (doc: string) =>
  s.string({ doc, optional: true, check: (v) => (isAbsolute(v) ? undefined : 'must be an absolute path') });

/** True when `file` lies inside `dir` (both absolute). */
const within = (file: string, dir: string): boolean => {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

export const modelVerificationSection = s.object(
  {
    enabled: s.boolean({
      doc: 'Verify the model directory against its SHA-256 manifest at start-up; `/readyz` stays false until it verifies, and for good if it does not (same check as `inference-gateway verify-model`).',
      default: false,
      env: 'GATEWAY_MODEL_VERIFICATION_ENABLED',
    }),
    dir: s.string({
      doc: "The model directory as mounted in the gateway's container (KServe's storage initializer fills `/mnt/models`).",
      default: '/mnt/models',
      check: (v) => (isAbsolute(v) ? undefined : 'must be an absolute path'),
    }),
    manifest: absolutePath('The manifest (`sha256sum` format, paths relative to `dir`), e.g. written by `inference-gateway sign-manifest` after training. Required when enabled.'),
    publicKey: absolutePath("PEM public key (ECDSA P-256 or Ed25519) the manifest's signature must verify with. Mount it from a ConfigMap, never from the model bucket."),
    signature: absolutePath('The manifest\'s signature (raw DER or base64, as `openssl dgst -sha256 -sign` or `cosign sign-blob --key` write; Ed25519: 64 bytes). Required with `publicKey`.'),
  },
  {
    doc: 'Layer 4: refuse to become ready on a model whose files differ from the manifest written after training.',
    check(v): Problem[] {
      if (v['enabled'] !== true) return [];
      const problems: Problem[] = [];
      const manifest = v['manifest'] as string | undefined;
      const key = v['publicKey'] as string | undefined;
      const sig = v['signature'] as string | undefined;
      if (manifest === undefined) problems.push({ path: 'manifest', message: 'is required when enabled' });
      if ((key === undefined) !== (sig === undefined)) problems.push({ path: key === undefined ? 'publicKey' : 'signature', message: 'publicKey and signature go together: set both or neither' });
      // Whoever can write the model can write a manifest stored beside it: only a signature
      // checked with a key from elsewhere makes such a manifest worth checking.
      if (manifest !== undefined && key === undefined && within(manifest, v['dir'] as string)) {
        problems.push({ path: 'manifest', message: 'lies inside the model directory, so whoever can replace the model can replace it too: set publicKey and signature, or mount the manifest from a ConfigMap' });
      }
      if (key !== undefined && within(key, v['dir'] as string)) problems.push({ path: 'publicKey', message: 'must not come from the model directory it vouches for' });
      return problems;
    },
  },
);
