// The MNIST architectures Octet ships (models/): a small CNN and a depthwise-separable (MobileNet-like) net.
import { Rng } from './rng.js';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, ReLU6, MaxPool2d, Flatten, Linear, GlobalAvgPool, Residual, Dropout, AvgPool2d, nameModules,
} from './layers.js';

/**
 * conv3x3(1->c1)-BN-ReLU-pool, conv3x3(c1->c2)-BN-ReLU-pool, conv3x3(c2->c3)-BN-ReLU-pool, dropout, linear(9 c3 -> 10).
 * A dropout of 0 keeps the (identity) layer, so module names do not depend on it.
 */
export function mnistCnn(seed: number, widths: [number, number, number] = [16, 32, 64], dropout = 0.25): Sequential {
  const rng = new Rng(seed);
  const [c1, c2, c3] = widths;
  const m = new Sequential([
    new Conv2d(1, c1, { kernel: 3, padding: 1, bias: false }, rng), new BatchNorm2d(c1), new ReLU(), new MaxPool2d([2, 2]),
    new Conv2d(c1, c2, { kernel: 3, padding: 1, bias: false }, rng), new BatchNorm2d(c2), new ReLU(), new MaxPool2d([2, 2]),
    new Conv2d(c2, c3, { kernel: 3, padding: 1, bias: false }, rng), new BatchNorm2d(c3), new ReLU(), new MaxPool2d([2, 2]),
    new Flatten(), new Dropout(dropout, new Rng(seed + 1)), new Linear(c3 * 9, 10, rng),
  ]);
  nameModules(m);
  return m;
}

/**
 * Depthwise-separable blocks with ReLU6 (MobileNet v1/v2 style) and one residual block. Head: 'avgpool' (3x3/2
 * average pool to 3x3, flatten, linear: keeps where a stroke is, which a 7x7 global pool loses on 28x28 digits)
 * or 'gap' (global average pool, linear).
 */
export function mnistMobile(seed: number, head: 'avgpool' | 'gap' = 'avgpool'): Sequential {
  const rng = new Rng(seed);
  const dwpw = (cin: number, cout: number, stride: number) => [
    new Conv2d(cin, cin, { kernel: 3, stride, padding: 1, groups: cin, bias: false }, rng), new BatchNorm2d(cin), new ReLU6(),
    new Conv2d(cin, cout, { kernel: 1, bias: false }, rng), new BatchNorm2d(cout), new ReLU6(),
  ];
  const m = new Sequential([
    new Conv2d(1, 16, { kernel: 3, padding: 1, bias: false }, rng), new BatchNorm2d(16), new ReLU6(),
    ...dwpw(16, 32, 2),
    ...dwpw(32, 64, 2),
    new Residual(new Sequential([
      new Conv2d(64, 64, { kernel: 3, padding: 1, groups: 64, bias: false }, rng), new BatchNorm2d(64), new ReLU6(),
      new Conv2d(64, 64, { kernel: 1, bias: false }, rng), new BatchNorm2d(64),
    ])),
    new ReLU6(),
    ...(head === 'gap'
      ? [new GlobalAvgPool(), new Flatten(), new Linear(64, 10, rng)]
      : [new AvgPool2d([3, 3], [2, 2]), new Flatten(), new Linear(64 * 9, 10, rng)]),
  ]);
  nameModules(m);
  return m;
}
