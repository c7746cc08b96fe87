// pnpm bench: every benchmark as a ratio against a baseline measured in the same run.

import "reflect-metadata";
import { formatRatios } from "./measure.js";
import { benchSystemHeap } from "./system-heap.js";

const lines = [...benchSystemHeap()];
process.stdout.write(`${formatRatios(lines)}\n`);
