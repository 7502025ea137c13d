// The `verify-model` and `sign-manifest` commands: argument checks and the report printed.
// Exit codes: 0 verified / written, 1 a check failed, 2 a usage error.

import { ArtifactError } from './artifact-error.js';
import { signManifest } from './sign-manifest.js';
import type { SignatureEncoding } from './signature.js';
import { verifyModel } from './verify-model.js';

export interface ArtifactArgs {
  readonly dir?: string | undefined;
  readonly manifest?: string | undefined;
  readonly key?: string | undefined;
  readonly signature?: string | undefined;
  readonly encoding?: string | undefined;
}

export interface CommandOutcome {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

const usage = (text: string): CommandOutcome => ({ code: 2, stdout: '', stderr: `${text}\n` });

export async function verifyModelCommand(a: ArtifactArgs): Promise<CommandOutcome> {
  if (!a.dir || !a.manifest || !a.key !== !a.signature)
    return usage(
      'verify-model needs --dir DIR --manifest FILE [--key PUBLIC_KEY.pem --signature FILE] (a key and a signature go together)',
    );
  const r = await verifyModel({
    dir: a.dir,
    manifest: a.manifest,
    ...(a.key ? { publicKey: a.key } : {}),
    ...(a.signature ? { signature: a.signature } : {}),
  });
  if (r.ok)
    return {
      code: 0,
      stdout: `${a.dir}: ${r.files} files, ${r.bytes} bytes match ${a.manifest}${r.signed ? ' (signature verified)' : ''}\n`,
      stderr: '',
    };
  const lines = r.problems.map((p) => `${p.kind}: ${p.message}`);
  return {
    code: 1,
    stdout: '',
    stderr: `${lines.join('\n')}\n${a.dir}: verification FAILED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})\n`,
  };
}

export async function signManifestCommand(a: ArtifactArgs): Promise<CommandOutcome> {
  if (!a.dir || !a.manifest || !a.key !== !a.signature)
    return usage(
      'sign-manifest needs --dir DIR --manifest FILE [--key PRIVATE_KEY.pem --signature FILE [--encoding base64|raw]] (a key and a signature go together)',
    );
  const encoding = (a.encoding ?? 'base64') as SignatureEncoding;
  if (encoding !== 'base64' && encoding !== 'raw')
    return usage(`--encoding must be base64 (cosign's form) or raw (DER, openssl's form), not ${a.encoding}`);
  try {
    const r = await signManifest({
      dir: a.dir,
      manifest: a.manifest,
      encoding,
      ...(a.key ? { privateKey: a.key } : {}),
      ...(a.signature ? { signature: a.signature } : {}),
    });
    return {
      code: 0,
      stdout: `${a.manifest}: ${r.files} files, ${r.bytes} bytes${a.signature ? `; signature in ${a.signature}` : ''}\n`,
      stderr: '',
    };
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    return { code: 1, stdout: '', stderr: `${err.kind}: ${err.message}\n` };
  }
}
