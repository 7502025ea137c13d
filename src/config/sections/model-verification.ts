import { isAbsolute, relative } from 'node:path';
import { z, crossField, CROSS_FIELD } from '../fields.js';

const absolutePath = () => z.string().refine((v) => isAbsolute(v), { message: 'must be an absolute path' });

/** True when `file` lies inside `dir` (both absolute). */
const within = (file: string, dir: string): boolean => {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

export const modelVerificationSection = z
  .strictObject({
    enabled: z.boolean().default(false).meta({
      description:
        'Verify the model directory against its SHA-256 manifest at start-up; `/readyz` stays false until it verifies, and for good if it does not (same check as `inference-gateway verify-model`).',
      env: 'GATEWAY_MODEL_VERIFICATION_ENABLED',
    }),
    dir: absolutePath().default('/mnt/models').meta({
      description:
        "The model directory as mounted in the gateway's container (KServe's storage initializer fills `/mnt/models`).",
    }),
    manifest: absolutePath().optional().meta({
      description:
        'The manifest (`sha256sum` format, paths relative to `dir`), e.g. written by `inference-gateway sign-manifest` after training. Required when enabled.',
    }),
    publicKey: absolutePath().optional().meta({
      description:
        "PEM public key (ECDSA P-256 or Ed25519) the manifest's signature must verify with. Mount it from a ConfigMap, never from the model bucket.",
    }),
    signature: absolutePath().optional().meta({
      description:
        "The manifest's signature (raw DER or base64, as `openssl dgst -sha256 -sign` or `cosign sign-blob --key` write; Ed25519: 64 bytes). Required with `publicKey`.",
    }),
  })
  .superRefine(
    crossField((v, ctx) => {
      if (!v.enabled) return;
      const { manifest, publicKey: key, signature: sig } = v;
      if (manifest === undefined)
        ctx.addIssue({ code: 'custom', path: ['manifest'], message: 'is required when enabled' });
      if ((key === undefined) !== (sig === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [key === undefined ? 'publicKey' : 'signature'],
          message: 'publicKey and signature go together: set both or neither',
        });
      }
      // Whoever can write the model can write a manifest stored beside it: only a signature
      // checked with a key from elsewhere makes such a manifest worth checking.
      if (manifest !== undefined && key === undefined && within(manifest, v.dir)) {
        ctx.addIssue({
          code: 'custom',
          path: ['manifest'],
          message:
            'lies inside the model directory, so whoever can replace the model can replace it too: set publicKey and signature, or mount the manifest from a ConfigMap',
        });
      }
      if (key !== undefined && within(key, v.dir))
        ctx.addIssue({
          code: 'custom',
          path: ['publicKey'],
          message: 'must not come from the model directory it vouches for',
        });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({
    description:
      'Layer 4: refuse to become ready on a model whose files differ from the manifest written after training.',
  });
