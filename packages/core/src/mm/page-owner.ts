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
  /** The owners open now, innermost last (a record is made only when one gets pages). */
  readonly #openTags: number[] = [];
  readonly #openDescribes: (() => string)[] = [];
  #next = 1;

  /** The tag page allocations get now: the innermost open owner's (0: none). */
  get current(): number {
    const n = this.#openTags.length;
    return n === 0 ? 0 : (this.#openTags[n - 1] as number);
  }

  /**
   * Opens an owner, which is current until it is closed (owners nest).
   * @param describe - says who the owner is, when a report asks (read then, so it can name a
   * buffer made later, or its current name)
   * @returns the owner's tag, for {@link PageOwners.close}
   */
  open(describe: () => string): number {
    const tag = this.#next++;
    if (this.#next > 0xffffffff) this.#next = 1;
    this.#openTags.push(tag);
    this.#openDescribes.push(describe);
    return tag;
  }

  /** Closes owner `tag` (the innermost, normally); the one it was opened in is current again. */
  close(tag: number): void {
    const tags = this.#openTags;
    if (tags[tags.length - 1] === tag) {
      tags.pop();
      this.#openDescribes.pop();
    } else {
      const i = tags.lastIndexOf(tag);
      if (i < 0) return;
      tags.splice(i, 1);
      this.#openDescribes.splice(i, 1);
    }
    const r = this.#records.get(tag);
    if (!r) return;
    r.open = false;
    if (r.pages <= 0) this.#records.delete(tag);
  }

  /** Counts `pages` allocated under `tag` (tags neither open nor holding pages are ignored). */
  charge(tag: number, pages: number): void {
    let r = this.#records.get(tag);
    if (!r) {
      const i = this.#openTags.lastIndexOf(tag);
      if (i < 0) return;
      r = { describe: this.#openDescribes[i] as () => string, pages: 0, open: true };
      this.#records.set(tag, r);
    }
    r.pages += pages;
  }

  /** Counts `pages` of `tag` freed. */
  uncharge(tag: number, pages: number): void {
    const r = this.#records.get(tag);
    if (!r) return;
    r.pages -= pages;
    if (r.pages <= 0 && !r.open) this.#records.delete(tag);
  }

  /** The owners holding pages now, in the order they first took one. */
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
