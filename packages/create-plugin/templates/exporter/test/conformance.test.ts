// Certifies the exporter: the conformance suite as vitest tests, run on the compiled plugin.

import { describeExporterConformance } from "@dmabuf/testing";
import { MyExporter } from "../dist/plugin.js";

describeExporterConformance({ plugin: MyExporter });
