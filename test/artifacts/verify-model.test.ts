// verify-model and sign-manifest against real files, the real `sha256sum` and the real `openssl`:
// each tool must accept what the other writes, and each kind of tampering fails naming its cause.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyModel } from '../../src/artifacts/verify-model.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function tool(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`${cmd} is not installed: these tests check interoperability with the real ${cmd}`, {
        cause: err,
      });
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

function gateway(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Fixture {
  root: string;
  model: string;
  manifest: string;
  ecKey: string;
  ecPub: string;
  edKey: string;
  edPub: string;
}

/** A model directory with a nested file and a name sha256sum must escape, plus keys made by openssl. */
function fixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'igw-artifacts-'));
  const model = join(root, 'model');
  mkdirSync(join(model, 'tokenizer'), { recursive: true });
  writeFileSync(join(model, 'model.joblib'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251)));
  writeFileSync(join(model, 'tokenizer', 'vocab.json'), '{"a": 1}\n');
  writeFileSync(join(model, 'back\\slash.txt'), 'escaped by sha256sum\n');
  const manifest = join(root, 'MANIFEST.sha256');
  writeFileSync(manifest, tool('sha256sum', ['model.joblib', 'tokenizer/vocab.json', 'back\\slash.txt'], model));
  const f = {
    root,
    model,
    manifest,
    ecKey: join(root, 'ec.pem'),
    ecPub: join(root, 'ec.pub'),
    edKey: join(root, 'ed.pem'),
    edPub: join(root, 'ed.pub'),
  };
  tool('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f.ecKey]);
  tool('openssl', ['pkey', '-in', f.ecKey, '-pubout', '-out', f.ecPub]);
  tool('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', f.edKey]);
  tool('openssl', ['pkey', '-in', f.edKey, '-pubout', '-out', f.edPub]);
  return f;
}

describe('verify-model accepts what sha256sum and openssl write', () => {
  let f: Fixture;
  before(() => {
    f = fixture();
  });

  it('verifies a manifest written by sha256sum, including a name it escaped', () => {
    assert.match(readFileSync(f.manifest, 'utf8'), /^\\[0-9a-f]{64} {2}back\\\\slash\.txt$/m);
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 files/);
  });

  it('verifies an ECDSA P-256 signature written by openssl dgst -sha256 -sign (raw DER)', () => {
    const sig = join(f.root, 'ec.sig');
    tool('openssl', ['dgst', '-sha256', '-sign', f.ecKey, '-out', sig, f.manifest]);
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest, '--key', f.ecPub, '--signature', sig);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /signature verified/);
  });

  it("verifies the same signature base64-encoded, cosign sign-blob's form", () => {
    const der = join(f.root, 'ec2.sig');
    tool('openssl', ['dgst', '-sha256', '-sign', f.ecKey, '-out', der, f.manifest]);
    const b64 = join(f.root, 'ec2.sig.b64');
    writeFileSync(b64, tool('openssl', ['base64', '-A', '-in', der]));
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest, '--key', f.ecPub, '--signature', b64);
    assert.equal(r.code, 0, r.stderr);
  });

  it('verifies an Ed25519 signature written by openssl pkeyutl -sign -rawin', () => {
    const sig = join(f.root, 'ed.sig');
    tool('openssl', ['pkeyutl', '-sign', '-rawin', '-inkey', f.edKey, '-in', f.manifest, '-out', sig]);
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest, '--key', f.edPub, '--signature', sig);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('sign-manifest writes what sha256sum and openssl accept', () => {
  let f: Fixture;
  before(() => {
    f = fixture();
  });

  it('writes a manifest that sha256sum -c checks OK, byte for byte the one sha256sum wrote', () => {
    const out = join(f.root, 'ours.sha256');
    const r = gateway('sign-manifest', '--dir', f.model, '--manifest', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(tool('sha256sum', ['-c', out], f.model), /model\.joblib: OK/);
    const sorted = (t: string) => t.trim().split('\n').sort();
    assert.deepEqual(sorted(readFileSync(out, 'utf8')), sorted(readFileSync(f.manifest, 'utf8')));
  });

  it('signs with ECDSA P-256 so that openssl dgst -sha256 -verify says Verified OK (raw DER)', () => {
    const out = join(f.root, 'ec-ours.sha256');
    const sig = join(f.root, 'ec-ours.sig');
    const r = gateway(
      'sign-manifest',
      '--dir',
      f.model,
      '--manifest',
      out,
      '--key',
      f.ecKey,
      '--signature',
      sig,
      '--encoding',
      'raw',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(tool('openssl', ['dgst', '-sha256', '-verify', f.ecPub, '-signature', sig, out]), /Verified OK/);
  });

  it('writes base64 by default, which openssl verifies once decoded', () => {
    const out = join(f.root, 'b64-ours.sha256');
    const sig = join(f.root, 'b64-ours.sig');
    assert.equal(
      gateway('sign-manifest', '--dir', f.model, '--manifest', out, '--key', f.ecKey, '--signature', sig).code,
      0,
    );
    const der = join(f.root, 'b64-ours.der');
    tool('openssl', ['base64', '-d', '-A', '-in', sig, '-out', der]);
    assert.match(tool('openssl', ['dgst', '-sha256', '-verify', f.ecPub, '-signature', der, out]), /Verified OK/);
  });

  it('signs with Ed25519 so that openssl pkeyutl -verify says Signature Verified Successfully', () => {
    const out = join(f.root, 'ed-ours.sha256');
    const sig = join(f.root, 'ed-ours.sig');
    assert.equal(
      gateway(
        'sign-manifest',
        '--dir',
        f.model,
        '--manifest',
        out,
        '--key',
        f.edKey,
        '--signature',
        sig,
        '--encoding',
        'raw',
      ).code,
      0,
    );
    assert.match(
      tool('openssl', ['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', f.edPub, '-in', out, '-sigfile', sig]),
      /Signature Verified Successfully/,
    );
  });

  it('leaves its own manifest out of the listing when the directory is reached through a symbolic link', async () => {
    const link = join(f.root, 'via-link');
    symlinkSync(f.model, link);
    const out = join(link, 'MANIFEST.sha256');
    assert.equal(gateway('sign-manifest', '--dir', link, '--manifest', out).code, 0);
    assert.doesNotMatch(readFileSync(out, 'utf8'), /MANIFEST/);
    const r = await verifyModel({ dir: link, manifest: out });
    assert.deepEqual(r.problems, []);
    rmSync(out);
  });

  it('leaves its own manifest and signature out of the listing when they are written inside the directory', async () => {
    const out = join(f.model, 'MANIFEST.sha256');
    const sig = join(f.model, 'MANIFEST.sha256.sig');
    assert.equal(
      gateway('sign-manifest', '--dir', f.model, '--manifest', out, '--key', f.ecKey, '--signature', sig).code,
      0,
    );
    const r = await verifyModel({ dir: f.model, manifest: out, publicKey: f.ecPub, signature: sig });
    assert.deepEqual(r.problems, []);
    rmSync(out);
    rmSync(sig);
  });
});

describe('verify-model fails naming the cause', () => {
  /** A fresh signed fixture per test: each one tampers with it. */
  function signed(): Fixture & { sig: string } {
    const f = fixture();
    const sig = join(f.root, 'MANIFEST.sha256.sig');
    tool('openssl', ['dgst', '-sha256', '-sign', f.ecKey, '-out', sig, f.manifest]);
    return { ...f, sig };
  }
  /** Runs the signed check (with `key`, the fixture's ECDSA public key by default); asserts exit 1 and returns stderr. */
  const failing = (f: Fixture & { sig: string }, key = f.ecPub) => {
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest, '--key', key, '--signature', f.sig);
    assert.equal(r.code, 1, `exit 1, got ${r.code}: ${r.stdout}`);
    return r.stderr;
  };

  it('one changed byte: a mismatch naming the file', () => {
    const f = signed();
    const file = join(f.model, 'model.joblib');
    const bytes = readFileSync(file);
    bytes[1000] = bytes[1000]! ^ 0x01;
    writeFileSync(file, bytes);
    assert.match(failing(f), /^mismatch: model\.joblib: SHA-256 [0-9a-f]{64} differs/m);
  });

  it('one extra file: named as not in the manifest', () => {
    const f = signed();
    writeFileSync(join(f.model, 'tokenizer', 'backdoor.py'), 'import os\n');
    assert.match(failing(f), /^extra: tokenizer\/backdoor\.py: in the directory, not in the manifest$/m);
  });

  it('one missing file: named as missing from the directory', () => {
    const f = signed();
    rmSync(join(f.model, 'tokenizer', 'vocab.json'));
    assert.match(failing(f), /^missing: tokenizer\/vocab\.json: listed in the manifest, missing from the directory$/m);
  });

  it('every problem is reported, not only the first', () => {
    const f = signed();
    appendFileSync(join(f.model, 'model.joblib'), 'x');
    writeFileSync(join(f.model, 'extra.bin'), 'x');
    rmSync(join(f.model, 'tokenizer', 'vocab.json'));
    const out = failing(f);
    for (const kind of ['mismatch: model.joblib', 'extra: extra.bin', 'missing: tokenizer/vocab.json'])
      assert.ok(out.includes(kind), kind);
    assert.match(out, /3 problems/);
  });

  it('a wrong key: the signature does not match', () => {
    const f = signed();
    assert.match(failing(f, fixture().ecPub), /^signature_mismatch: .*does not match/m);
  });

  it('a manifest changed after signing: the signature does not match, and no file is hashed', () => {
    const f = signed();
    appendFileSync(f.manifest, `${'0'.repeat(64)}  injected.bin\n`);
    const out = failing(f);
    assert.match(out, /^signature_mismatch: /m);
    assert.doesNotMatch(out, /injected\.bin/, 'the directory was not compared with an unverified manifest');
  });

  it('a truncated signature: a bad signature encoding', () => {
    const f = signed();
    writeFileSync(f.sig, readFileSync(f.sig).subarray(0, 40));
    assert.match(failing(f), /^bad_signature_encoding: .*not a DER ECDSA signature/m);
  });

  it('a truncated Ed25519 signature: a bad signature encoding naming the length', () => {
    const f = signed();
    tool('openssl', ['pkeyutl', '-sign', '-rawin', '-inkey', f.edKey, '-in', f.manifest, '-out', f.sig]);
    writeFileSync(f.sig, readFileSync(f.sig).subarray(0, 63));
    assert.match(failing(f, f.edPub), /^bad_signature_encoding: .*64 bytes.*63/m);
  });

  it('a key that is not a PEM public key: a bad key', () => {
    const f = signed();
    writeFileSync(f.ecPub, 'not a key\n');
    assert.match(failing(f), /^bad_key: public key .*not a PEM public key/m);
  });

  it('a private key given as the public key: a bad key', () => {
    const f = signed();
    assert.match(failing(f, f.ecKey), /^bad_key: .*a private key/m);
  });

  it('an RSA key: a bad key naming the algorithm', () => {
    const f = signed();
    const rsa = join(f.root, 'rsa.pem');
    tool('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsa]);
    writeFileSync(f.ecPub, tool('openssl', ['pkey', '-in', rsa, '-pubout']));
    assert.match(failing(f), /^bad_key: .*a rsa key; expected ECDSA P-256 or Ed25519/m);
  });

  it('an unreadable signature file: unreadable, naming it', () => {
    const f = signed();
    rmSync(f.sig);
    assert.match(failing(f), /^unreadable: signature .*MANIFEST\.sha256\.sig: cannot read \(ENOENT\)/m);
  });

  it('a symbolic link pointing outside the directory: an unsafe path, even when the manifest lists its digest', () => {
    const f = signed();
    const outside = join(f.root, 'outside.bin');
    writeFileSync(outside, 'not the model\n');
    symlinkSync(outside, join(f.model, 'weights.bin'));
    appendFileSync(f.manifest, tool('sha256sum', [outside]).replace(outside, 'weights.bin'));
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^unsafe_path: weights\.bin: a symbolic link pointing outside the model directory/m);
    assert.doesNotMatch(r.stderr, /missing: weights\.bin/);
  });

  it('a symbolic link to a file inside the directory is hashed as that file', async () => {
    const f = fixture();
    symlinkSync('model.joblib', join(f.model, 'current.joblib'));
    appendFileSync(f.manifest, tool('sha256sum', ['model.joblib'], f.model).replace('model.joblib', 'current.joblib'));
    const r = await verifyModel({ dir: f.model, manifest: f.manifest });
    assert.deepEqual(r.problems, []);
  });

  it('a ../ path in the manifest: an unsafe path', () => {
    const f = fixture();
    appendFileSync(f.manifest, `${'a'.repeat(64)}  ../etc/passwd\n`);
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^unsafe_path: manifest line 4: \.\.\/etc\/passwd: a \.\.\/ segment escapes the model directory/m,
    );
  });

  it('an absolute path in the manifest: an unsafe path', () => {
    const f = fixture();
    appendFileSync(f.manifest, `${'a'.repeat(64)} */etc/passwd\n`);
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /manifest line 4: \/etc\/passwd: an absolute path escapes the model directory/);
  });

  it('a line that is not "<sha256>  <path>": the manifest is refused naming the line', () => {
    const f = fixture();
    appendFileSync(f.manifest, 'deadbeef  short.bin\n');
    const r = gateway('verify-model', '--dir', f.model, '--manifest', f.manifest);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /manifest line 4: expected "<sha256 hex> {2}<path>"/);
  });

  it('a manifest that lists itself (sha256sum run inside the directory) is refused with the fix, not reported missing', () => {
    const f = fixture();
    const inside = join(f.model, 'MANIFEST.sha256');
    execFileSync('sh', ['-c', 'sha256sum model.joblib MANIFEST.sha256 > MANIFEST.sha256'], { cwd: f.model });
    const r = gateway('verify-model', '--dir', f.model, '--manifest', inside);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^manifest_invalid: MANIFEST\.sha256: the manifest lists itself/m);
    assert.doesNotMatch(r.stderr, /missing: MANIFEST/);
  });

  it('a key without a signature is a usage problem, not a silent unsigned check', async () => {
    const f = fixture();
    const r = await verifyModel({ dir: f.model, manifest: f.manifest, publicKey: f.ecPub });
    assert.equal(r.ok, false);
    assert.match(r.problems[0]!.message, /give both or neither/);
  });

  it('a --key without --signature exits 2 with the usage, rather than checking unsigned', () => {
    const r = gateway('verify-model', '--dir', '/tmp', '--manifest', '/tmp/M', '--key', '/tmp/k.pub');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /a key and a signature go together/);
  });

  it('missing --dir or --manifest exits 2 with the usage', () => {
    const r = gateway('verify-model', '--dir', '/tmp');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /verify-model needs --dir DIR --manifest FILE/);
  });
});

describe('verify-model streams', () => {
  it('hashes a 512 MiB file as sha256sum does, without holding it in memory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'igw-artifacts-big-'));
    const model = join(root, 'model');
    mkdirSync(model);
    const big = join(model, 'weights.bin');
    writeFileSync(big, 'head');
    truncateSync(big, 512 * 1024 * 1024); // sparse: no disk used, every byte still read
    const manifest = join(root, 'MANIFEST.sha256');
    writeFileSync(manifest, tool('sha256sum', ['weights.bin'], model));
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const r = await verifyModel({ dir: model, manifest });
    clearInterval(sampler);
    rmSync(root, { recursive: true });
    assert.deepEqual(r.problems, []);
    assert.equal(r.bytes, 512 * 1024 * 1024);
    assert.ok(peak - before < 64 * 1024 * 1024, `resident memory grew by ${Math.round((peak - before) / 1048576)} MiB`);
  });
});
