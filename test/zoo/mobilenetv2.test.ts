// Reference architecture mobilenetv2: every generated form runs in onnxruntime-node with sane, consistent outputs.
import { test } from 'uvu';
import { modelSuite } from './check.js';

modelSuite('mobilenetv2', 3504872);

test.run();
