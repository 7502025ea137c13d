// The model bucket's policy (layer 4, storage side) refuses every write that is not encrypted
// with the bucket's KMS key, and any plain-HTTP access. AWS evaluates an explicit Deny before any
// Allow (IAM policy evaluation logic), so these statements hold whatever else grants writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY_DIR } from '../helpers/deploy-manifests.js';

interface Statement {
  Sid: string;
  Effect: string;
  Principal: string;
  Action: string | string[];
  Resource: string | string[];
  Condition: Record<string, Record<string, string>>;
}
const policy = JSON.parse(readFileSync(join(DEPLOY_DIR, 'storage/s3-bucket-policy.json'), 'utf8')) as { Version: string; Statement: Statement[] };
const denies = (action: string) => policy.Statement.filter((s) => s.Effect === 'Deny' && s.Principal === '*' && [s.Action].flat().some((a) => a === action || a === 's3:*'));

/** Whether some Deny statement refuses a PutObject carrying these headers (a tiny evaluator of the operators used). */
function putRefused(headers: Record<string, string | undefined>, secure = true): boolean {
  const context: Record<string, string | undefined> = { ...headers, 'aws:SecureTransport': String(secure) };
  return denies('s3:PutObject').some((s) =>
    Object.entries(s.Condition).every(([op, kv]) =>
      Object.entries(kv).every(([key, want]) => {
        const have = context[key];
        // IAM: a negated operator such as StringNotEquals is true when the key is absent from the request.
        if (op === 'StringNotEquals') return have === undefined || have !== want;
        if (op === 'Null') return (have === undefined) === (want === 'true');
        if (op === 'Bool') return have === want;
        throw new Error(`operator ${op} not modelled`);
      }),
    ),
  );
}

const KEY = policy.Statement.find((s) => s.Sid === 'DenyWritesWithAnotherKmsKey')!.Condition['StringNotEquals']!['s3:x-amz-server-side-encryption-aws-kms-key-id']!;

describe('deploy/storage/s3-bucket-policy.json', () => {
  it('is a 2012-10-17 policy whose statements are all explicit denies', () => {
    assert.equal(policy.Version, '2012-10-17');
    assert.ok(policy.Statement.every((s) => s.Effect === 'Deny'));
  });

  it('refuses a write without an encryption header', () => assert.equal(putRefused({}), true));
  it('refuses a write encrypted with S3-managed keys (AES256)', () => assert.equal(putRefused({ 's3:x-amz-server-side-encryption': 'AES256' }), true));
  it('refuses a write encrypted with another KMS key', () =>
    assert.equal(putRefused({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:444455556666:key/other' }), true));
  it('refuses a KMS write that names no key (it would use the account default key)', () => assert.equal(putRefused({ 's3:x-amz-server-side-encryption': 'aws:kms' }), true));
  it('refuses a write over plain HTTP, even when encrypted with the key', () =>
    assert.equal(putRefused({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY }, false), true));
  it('lets through a write over TLS encrypted with the bucket key', () =>
    assert.equal(putRefused({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY }), false));
});
