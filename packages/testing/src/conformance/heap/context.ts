// The context heap cases run in.

import type { HeapSuiteCapabilities } from "../capabilities.js";
import type { ConformanceCase } from "../case.js";
import type { HeapSession } from "../session.js";

/** What a heap case receives. */
export interface HeapCaseContext {
  /** The heap's capabilities. */
  readonly capabilities: HeapSuiteCapabilities;
  /** The heap's name. */
  readonly heapName: string;
  /**
   * Boots a fresh kernel from the factory, spawns a process and opens the heap in it
   * (followed by the after-case checks).
   */
  boot(): HeapSession;
}

/** A case of the heap suite. */
export type HeapCase = ConformanceCase<HeapCaseContext, HeapSuiteCapabilities>;
