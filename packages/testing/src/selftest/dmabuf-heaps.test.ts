import { createKernel } from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe } from "vitest";
import { describeDmabufHeapsSelftest } from "./dmabuf-heaps.js";

describe("profile 6.18", () => {
  describeDmabufHeapsSelftest({
    kernel: () => createKernel({ ram: "256MiB", plugins: [SystemHeap] }),
  });
});

describe("profile 6.1", () => {
  describeDmabufHeapsSelftest({
    kernel: () => createKernel({ ram: "256MiB", profile: "6.1", plugins: [SystemHeap] }),
  });
});
