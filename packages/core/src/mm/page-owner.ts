// Page owners (page_owner): who allocated the pages still in use, so a leak report can name them.

/** Pages held by one owner, as {@link PageOwners.held} lists them. */
export interface PageOwnerHolding {
  /** Who allocated them, in words (e.g. `heap 'system' buffer inode 5 (released)`). */
  readonly owner: string;
  /** Pages allocated under that owner and not freed. */
  readonly pages: number;
}

interface OwnerRecord {
  readonly describe: () => string;
  pages: number;
  open: boolean;
}

/**
 * The owners of allocated pages, like Linux's `page_owner` (which records the allocating
 * call chain per page): a kernel path that allocates on someone's behalf opens an owner
 * (the ALLOC ioctl for its heap, the dma-buf core around an exporter's attach or map), page
 * allocations made meanwhile are tagged with it (the page frame's owner tag), and the pages
 * each owner still holds are counted until they are freed. A leak report then says whose
 * pages they are: `12 pages owned by heap 'leaky' buffer inode 5 (released)`.
 *
 * Costs one counter update per allocated or freed block; an owner is forgotten once it is
 * closed and holds no page.
 */
export class PageOwners {
  readonly #records = new Map<number, OwnerRecord>();
  #next = 1;
  /** The tag page allocations get now (0: none). */
  current = 0;

  /**
   * Opens an owner and makes it current.
   * @param describe - says who the owner is, when a report asks (read then, so it can name a
   * buffer made later or its current name)
   * @returns the owner's tag and the tag that was current before (give it to
   * {@link PageOwners.close})
   */
  open(describe: () => string): { tag: number; previous: number } {
    const tag = this.#next++;
    if (this.#next > 0xffffffff) this.#next = 1;
    this.#records.set(tag, { describe, pages: 0, open: true });
    const previous = this.current;
    this.current = tag;
    return { tag, previous };
  }

  /** Closes an owner and makes `previous` current again. */
  close(tag: number, previous: number): void {
    this.current = previous;
    const r = this.#records.get(tag);
    if (!r) return;
    r.open = false;
    if (r.pages <= 0) this.#records.delete(tag);
  }

  /** Counts `pages` allocated under `tag` (unknown tags are ignored). */
  charge(tag: number, pages: number): void {
    const r = this.#records.get(tag);
    if (r) r.pages += pages;
  }

  /** Counts `pages` of `tag` freed. */
  uncharge(tag: number, pages: number): void {
    const r = this.#records.get(tag);
    if (!r) return;
    r.pages -= pages;
    if (r.pages <= 0 && !r.open) this.#records.delete(tag);
  }

  /** The owners holding pages now, oldest first. */
  held(): PageOwnerHolding[] {
    const out: PageOwnerHolding[] = [];
    for (const r of this.#records.values()) {
      if (r.pages > 0) out.push({ owner: r.describe(), pages: r.pages });
    }
    return out;
  }
}

/** `buffer inode 5 (name "cam", released)`: a buffer as a page owner report names it. */
export function bufferInWords(buf: {
  readonly ino: number;
  readonly name: string | null;
  readonly file: { readonly refCount: number };
}): string {
  const notes: string[] = [];
  if (buf.name !== null) notes.push(`name ${JSON.stringify(buf.name)}`);
  if (buf.file.refCount === 0) notes.push("released");
  return `buffer inode ${buf.ino}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
}
