// pnpm bench: every benchmark as a ratio against a baseline measured in the same run.

import "reflect-metadata";
import { benchContiguous } from "./contiguous.js";
import { benchDevices } from "./devices.js";
import { formatRatios } from "./measure.js";
import { benchScale } from "./scale.js";
import { benchSystemHeap } from "./system-heap.js";
import { benchTrace } from "./trace.js";

const lines = [
  ...benchSystemHeap(),
  ...benchContiguous(),
  ...benchDevices(),
  ...benchScale(),
  ...benchTrace(),
];
process.stdout.write(`${formatRatios(lines)}\n`);
