// Shared by the weights-left-in-the-file suites (f32-weights-inplace, q8-weights-inplace): the model written to a
// temporary file, and the check that a session whose weights are still in that file names it when it changed before
// the next compile (a new input shape).
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from '../../src/index.js';

/** Writes `bytes` to a temporary m.onnx, runs `body` with its path, then removes the file. */
export async function withModelFile(bytes: Uint8Array, body: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'octet-weights-file-'));
  try {
    const path = join(dir, 'm.onnx');
    writeFileSync(path, bytes);
    await body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function expectChangedFileReported(path: string, kernels: 'scalar' | 'x86', first: Record<string, Tensor>, second: Record<string, Tensor>): Promise<void> {
  const s = await InferenceSession.create(path, { kernels, threads: 1 });
  await s.run(first);
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  let err: unknown;
  try {
    await s.run(second);
  } catch (e) { err = e; }
  assert.match(String(err), /model file '.*m\.onnx' changed since the session read it/);
  await s.release();
}
