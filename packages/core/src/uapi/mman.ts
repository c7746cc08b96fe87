// mmap protection and mapping flags as Linux x86-64 defines them.

/** Pages may not be accessed. */
export const PROT_NONE = 0x0;
/** Pages may be read. */
export const PROT_READ = 0x1;
/** Pages may be written. */
export const PROT_WRITE = 0x2;
/** Pages may be executed. */
export const PROT_EXEC = 0x4;

/** Share changes with every other mapping of the object. */
export const MAP_SHARED = 0x01;
/** Private copy-on-write mapping. */
export const MAP_PRIVATE = 0x02;
/** MAP_SHARED with flag validation. */
export const MAP_SHARED_VALIDATE = 0x03;
/** Mask of the mapping-type bits. */
export const MAP_TYPE = 0x0f;
/** Place the mapping at exactly the given address. */
export const MAP_FIXED = 0x10;
/** Not backed by a file. */
export const MAP_ANONYMOUS = 0x20;
/** Populate (prefault) page tables. */
export const MAP_POPULATE = 0x8000;
/** Do not reserve swap space. */
export const MAP_NORESERVE = 0x4000;

/** madvise: no special treatment. */
export const MADV_NORMAL = 0;
/** madvise: expect random access. */
export const MADV_RANDOM = 1;
/** madvise: expect sequential access. */
export const MADV_SEQUENTIAL = 2;
/** madvise: will need these pages. */
export const MADV_WILLNEED = 3;
/** madvise: drop these pages (they fault in again). */
export const MADV_DONTNEED = 4;
