// Certifies the importer: the conformance suite as vitest tests, run on the compiled module.

import { describeImporterConformance } from "@dmabuf/testing";
import { importerSuite } from "../dist/plugin.js";

describeImporterConformance(importerSuite);
