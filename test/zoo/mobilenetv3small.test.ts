// Reference architecture mobilenetv3small: every generated form runs in onnxruntime-node with sane, consistent outputs.
import { test } from 'uvu';
import { modelSuite } from './check.js';

modelSuite('mobilenetv3small', 2542856);

test.run();
