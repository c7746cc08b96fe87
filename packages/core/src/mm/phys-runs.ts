// Walking a virtually contiguous range page by page, in physically contiguous runs.

/**
 * Calls `run(phys, length, at)` once per physically contiguous run of the byte range
 * `[offset, offset + length)` of a virtual mapping whose page `p` is backed by frame
 * `frameOf(p)`; `at` is the run's offset from `offset`. A page for which `frameOf` returns a
 * negative number is not in RAM: it ends the current run and goes to `other(page, inPage,
 * length, at)` instead (private copy-on-write pages of user mappings).
 */
export function forEachPhysRun(
  pageSize: number,
  offset: number,
  length: number,
  frameOf: (page: number) => number,
  run: (phys: number, length: number, at: number) => void,
  other?: (page: number, inPage: number, length: number, at: number) => void,
): void {
  let runPhys = -1;
  let runLen = 0;
  let runAt = 0;
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const page = Math.floor(pos / pageSize);
    const inPage = pos - page * pageSize;
    const len = Math.min(pageSize - inPage, end - pos);
    const pfn = frameOf(page);
    if (pfn < 0) {
      if (runLen > 0) run(runPhys, runLen, runAt);
      runLen = 0;
      other?.(page, inPage, len, pos - offset);
    } else {
      const phys = pfn * pageSize + inPage;
      if (runLen > 0 && runPhys + runLen === phys) runLen += len;
      else {
        if (runLen > 0) run(runPhys, runLen, runAt);
        runPhys = phys;
        runLen = len;
        runAt = pos - offset;
      }
    }
    pos += len;
  }
  if (runLen > 0) run(runPhys, runLen, runAt);
}
