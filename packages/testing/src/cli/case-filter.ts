// Near matches for a --case prefix that selects nothing: the ids and id groups it was closest to.

/** Edit distance between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * Case ids, or dotted id groups such as `heap.alloc.`, that `prefix` is a likely typo of
 * (at most five, nearest first).
 * @param prefix - the `--case` value that selected nothing
 * @param ids - every case id of the suites that would run
 */
export function nearCaseIds(prefix: string, ids: readonly string[]): string[] {
  const candidates = new Set<string>();
  for (const id of ids) {
    candidates.add(id);
    const parts = id.split(".");
    for (let n = 1; n < parts.length; n++) candidates.add(`${parts.slice(0, n).join(".")}.`);
  }
  const limit = Math.max(2, Math.floor(prefix.length / 4));
  const scored: [string, number][] = [];
  for (const c of candidates) {
    // A prefix is compared with the candidate cut to its length, so `heap.aloc` meets `heap.alloc.`.
    const d = Math.min(distance(prefix, c), distance(prefix, c.slice(0, prefix.length)) + 1);
    if (d <= limit) scored.push([c, d]);
  }
  const contains = [...candidates].filter((c) => !c.endsWith(".") && c.includes(prefix));
  scored.sort((a, b) => a[1] - b[1] || a[0].length - b[0].length || a[0].localeCompare(b[0]));
  return [...new Set([...scored.map(([c]) => c), ...contains])].slice(0, 5);
}
