// pnpm bench: every benchmark as a ratio against a baseline measured in the same run.

import "reflect-metadata";
import { benchContiguous } from "./contiguous.js";
import { formatRatios } from "./measure.js";
import { benchSystemHeap } from "./system-heap.js";

const lines = [...benchSystemHeap(), ...benchContiguous()];
process.stdout.write(`${formatRatios(lines)}\n`);
