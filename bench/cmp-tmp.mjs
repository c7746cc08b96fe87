const which = process.argv[2].split(",");
const P = { main: "/work/main/packages", trace: "/work/wt/trace/packages" };
const mk = async (w, tag) => {
  const core = await import(`${P[w]}/core/dist/index.js?${tag}`);
  const hs = await import(`${P[w]}/heaps-system/dist/index.js`);
  return [core, hs.SystemHeap];
};
function loop(core, SystemHeap) {
  const k = core.createKernel({ ram: "256MiB", plugins: [SystemHeap] });
  const p = k.spawn({ name: "b" });
  const h = p.open("/dev/dma_heap/system", 0);
  return () => {
    const fd = core.allocFromHeap(p, h, 4096);
    const m = p.mmap(fd, 4096, core.PROT_WRITE, core.MAP_SHARED);
    core.syncBuffer(p, fd, core.DMA_BUF_SYNC_START | core.DMA_BUF_SYNC_WRITE);
    core.syncBuffer(p, fd, core.DMA_BUF_SYNC_END | core.DMA_BUF_SYNC_WRITE);
    p.munmap(m);
    p.close(fd);
  };
}
const fs = [];
for (const w of which) fs.push(loop(...(await mk(w, fs.length))));
const time = (f, n) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t) / n;
};
for (let i = 0; i < 3000; i++) for (const f of fs) f();
const rs = fs.map(() => []);
for (let r = 0; r < 21; r++) fs.forEach((f, i) => rs[i].push(time(f, 3000)));
console.log(which.map((w, i) => `${w} ${rs[i].sort((x, y) => x - y)[10].toFixed(0)}`).join("  "));
