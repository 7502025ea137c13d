// Manifest signatures: ECDSA P-256 with SHA-256 (what `openssl dgst -sha256 -sign` writes as raw
// DER and `cosign sign-blob --key` writes as base64 of the same DER, RFC 5480 / SEC 1 encoding
// of (r, s)) and Ed25519 (RFC 8032, 64 raw bytes, e.g. `openssl pkeyutl -sign -rawin`).
// Keys are PEM: SubjectPublicKeyInfo for verifying, PKCS#8 or SEC 1 for signing.

import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ArtifactError } from './artifact-error.js';

export type SignatureEncoding = 'base64' | 'raw';

function keyKind(key: KeyObject, label: string): 'ecdsa-p256' | 'ed25519' {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new ArtifactError(
    'bad_key',
    `${label}: a ${key.asymmetricKeyType}${curve ? ` (${curve})` : ''} key; expected ECDSA P-256 or Ed25519`,
  );
}

/**
 * Loads a PEM key of the expected half: a private key given to the verifier is refused (it must
 * not hold it), an encrypted private key too (decrypt it, or sign with the tool that encrypted it).
 */
function loadKey(pem: Buffer, label: string, half: 'public' | 'private'): KeyObject {
  const text = pem.toString('utf8');
  if (half === 'public' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    throw new ArtifactError('bad_key', `${label}: a private key; give the public key (openssl pkey -pubout)`);
  if (half === 'private' && text.includes('ENCRYPTED'))
    throw new ArtifactError(
      'bad_key',
      `${label}: an encrypted private key; decrypt it to an unencrypted PEM for signing, or sign with the tool that encrypted it (cosign sign-blob)`,
    );
  let key: KeyObject;
  try {
    key = (half === 'public' ? createPublicKey : createPrivateKey)({ key: text, format: 'pem' });
  } catch (err) {
    throw new ArtifactError('bad_key', `${label}: not a PEM ${half} key (${(err as Error).message})`);
  }
  keyKind(key, label);
  return key;
}

export const loadPublicKey = (pem: Buffer, label: string): KeyObject => loadKey(pem, label, 'public');
export const loadPrivateKey = (pem: Buffer, label: string): KeyObject => loadKey(pem, label, 'private');

const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A signature file as written by openssl (raw bytes) or cosign (base64 text, maybe with a
 * newline). Never ambiguous for ECDSA: raw DER's third byte is 0x02 (INTEGER), not base64 text.
 */
export function decodeSignature(file: Buffer): Buffer {
  const text = file.toString('latin1').trim();
  if (text.length > 0 && text.length % 4 === 0 && BASE64_TEXT.test(text)) return Buffer.from(text, 'base64');
  return file;
}

function derLength(buf: Buffer, at: number): { length: number; next: number } | undefined {
  const first = buf[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, next: at + 1 };
  if (first === 0x81 && (buf[at + 1] ?? 0) >= 0x80) return { length: buf[at + 1]!, next: at + 2 };
  return undefined; // a P-256 signature is at most 72 bytes: longer forms are malformed here
}

/** Strict DER check of ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3). */
function isDerEcdsaSignature(sig: Buffer): boolean {
  if (sig[0] !== 0x30) return false;
  const seq = derLength(sig, 1);
  if (!seq || seq.next + seq.length !== sig.length) return false;
  let at = seq.next;
  for (let i = 0; i < 2; i++) {
    if (sig[at] !== 0x02) return false;
    const int = derLength(sig, at + 1);
    if (!int || int.length === 0 || int.length > 33) return false;
    at = int.next + int.length;
  }
  return at === sig.length;
}

/** Verifies `data` against a signature file; throws ArtifactError naming the cause. */
export function verifySignature(data: Buffer, signatureFile: Buffer, key: KeyObject, label: string): void {
  const sig = decodeSignature(signatureFile);
  const kind = keyKind(key, 'public key');
  if (kind === 'ecdsa-p256') {
    if (!isDerEcdsaSignature(sig))
      throw new ArtifactError(
        'bad_signature_encoding',
        `${label}: not a DER ECDSA signature (raw DER or base64 of it, as openssl dgst -sign or cosign sign-blob write)`,
      );
    if (!verify('sha256', data, { key, dsaEncoding: 'der' }, sig))
      throw new ArtifactError(
        'signature_mismatch',
        `${label}: the signature does not match the manifest and this public key`,
      );
    return;
  }
  if (sig.length !== 64)
    throw new ArtifactError(
      'bad_signature_encoding',
      `${label}: an Ed25519 signature is 64 bytes (raw or base64), this one is ${sig.length}`,
    );
  if (!verify(null, data, key, sig))
    throw new ArtifactError(
      'signature_mismatch',
      `${label}: the signature does not match the manifest and this public key`,
    );
}

/** Signs `data` with an ECDSA P-256 (SHA-256, DER) or Ed25519 key. */
export function signData(data: Buffer, key: KeyObject, encoding: SignatureEncoding): Buffer {
  const sig =
    keyKind(key, 'private key') === 'ecdsa-p256'
      ? sign('sha256', data, { key, dsaEncoding: 'der' })
      : sign(null, data, key);
  return encoding === 'base64' ? Buffer.from(`${sig.toString('base64')}\n`) : sig;
}
