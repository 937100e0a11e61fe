// Reference architecture resnet18: every generated form runs in onnxruntime-node with sane, consistent outputs.
import { test } from 'uvu';
import { modelSuite } from './check.js';

modelSuite('resnet18', 11689512);

test.run();
