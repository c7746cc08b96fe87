#!/usr/bin/env node
// create-dmabuf-plugin: scaffolds a heap, exporter or importer project in a new directory.

import { relative } from "node:path";
import { parseArgs } from "node:util";
import { PLUGIN_KINDS, type PluginKind, scaffold } from "./scaffold.js";

const USAGE = `usage: create-dmabuf-plugin <directory> [--kind heap|exporter|importer] [--tarball <file.tgz>]...

  npm create @dmabuf/plugin@latest my-heap -- --kind heap

Writes a plugin project into <directory> (new or empty): package.json, tsconfig.json, the plugin
in src/plugin.ts, its conformance test in test/, and a certify script.

  --kind      the plugin kind (default: heap)
  --tarball   depend on this packed @dmabuf package instead of the registry (repeatable)
  --help      print this help
`;

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [directory, ...extra] = positionals;
  if (directory === undefined || extra.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const kind = values.kind as PluginKind;
  if (!PLUGIN_KINDS.includes(kind)) {
    process.stderr.write(`unknown --kind "${kind}": one of ${PLUGIN_KINDS.join(", ")}\n`);
    return 2;
  }
  try {
    const files = scaffold({ directory, kind, tarballs: values.tarball ?? [] });
    const where = relative(process.cwd(), directory) || ".";
    process.stdout.write(
      `Created a ${kind} plugin project in ${where} (${files.length} files).\n\n` +
        `  cd ${where}\n  npm install\n  npm test\n  npm run certify\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`create-dmabuf-plugin: ${(e as Error).message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: "string", default: "heap" },
      tarball: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

process.exitCode = main(process.argv.slice(2));
