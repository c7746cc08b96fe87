#!/usr/bin/env node
// The dmabuf-conformance command: certifies the heaps, exporters and importers a module exports.

import { endRun } from "./cli/containment.js";
import { runCli } from "./cli/run.js";

// A reader that went away (`… | head`) ends the run quietly, as Unix tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

const stderr = (text: string) => process.stderr.write(text);
const status = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr,
  cwd: process.cwd(),
});
// What a plugin left running is reported, and cannot keep the command from ending.
endRun(status, stderr);
