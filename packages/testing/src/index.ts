// @dmabuf/testing: conformance suites and the kernel selftests, for any heap, exporter or importer.

export { describeDmabufHeapsSelftest, type HeapSelftestOptions } from "./selftest/dmabuf-heaps.js";
