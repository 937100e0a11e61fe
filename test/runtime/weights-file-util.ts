// Shared by the weights-left-in-the-file suites (f32-weights-inplace, q8-weights-inplace): a session whose weights
// are still in the model file must name the file when it changed before the next compile (a new input shape).
import * as assert from 'uvu/assert';
import { utimesSync } from 'node:fs';
import { InferenceSession, Tensor } from '../../src/index.js';

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
