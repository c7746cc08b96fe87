// Child process of the host-memory row: writes one byte per 2 MiB of a 64 GiB kernel, prints RSS growth per page.

import { createKernel } from "@dmabuf/core";

const MiB = 1024 * 1024;
const kernel = createKernel({ ram: "64GiB" });
const one = new Uint8Array([0x5a]);
const rss0 = process.memoryUsage().rss;
let pages = 0;
for (let at = 0; at < kernel.memory.bytes; at += 2 * MiB) {
  kernel.memory.write(at + 100, one);
  pages++;
}
const grown = process.memoryUsage().rss - rss0;
process.stdout.write(`${JSON.stringify({ perPage: grown / pages, pageSize: kernel.pageSize })}\n`);
