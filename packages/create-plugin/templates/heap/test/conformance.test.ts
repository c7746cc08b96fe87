// Certifies the heap: the conformance suite as vitest tests, run on the compiled plugin.

import { describeHeapConformance } from "@dmabuf/testing";
import { MyHeap } from "../dist/plugin.js";

describeHeapConformance({ plugin: MyHeap });
