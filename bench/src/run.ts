// pnpm bench: one table of every tracked figure as its cost over a baseline measured in the same run.
//
// Rows come from one module per area, each exporting a function that returns `Row`s (see
// table.ts); add a module's rows to `rows` below. `pnpm bench -- --suite` adds the unit-test
// wall time (minutes); `--only <text>` runs the rows whose name contains the text.

import "reflect-metadata";
import { allocRows } from "./alloc.js";
import { bootRows } from "./boot.js";
import { contiguousRows } from "./contiguous.js";
import { deviceRows } from "./devices.js";
import { memoryRows } from "./memory.js";
import { scaleRows } from "./scale.js";
import { formatTable, type Row, runRows } from "./table.js";
import { traceRows } from "./trace.js";
import { wallRows } from "./wall.js";
import { wasmRows } from "./wasm.js";

const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const rows: Row[] = [
  ...allocRows(),
  ...bootRows(),
  ...memoryRows(),
  ...deviceRows(),
  ...contiguousRows(),
  ...scaleRows(),
  ...traceRows(),
  ...wallRows(args.includes("--suite")),
  ...wasmRows(),
].filter((r) => only === undefined || r.name.includes(only));

const results = await runRows(rows, (r) =>
  process.stderr.write(`  ${r.row.name}: ${r.ratio.toFixed(3)}x\n`),
);
process.stdout.write(`${formatTable(results)}\n`);
