// include/uapi/linux/memfd.h: memfd_create flags and the huge-page size field.

/** Set close-on-exec on the new fd. */
export const MFD_CLOEXEC = 0x1;
/** Allow seals to be added (clears the initial F_SEAL_SEAL). */
export const MFD_ALLOW_SEALING = 0x2;
/** Create the file on the internal hugetlbfs mount. */
export const MFD_HUGETLB = 0x4;
/** Linux 6.3+: not executable, sealed with F_SEAL_EXEC (EINVAL on 6.1). */
export const MFD_NOEXEC_SEAL = 0x8;
/** Linux 6.3+: explicitly executable (EINVAL on 6.1). */
export const MFD_EXEC = 0x10;
/** Shift of the huge-page size field: bits 26–31 hold log2 of the page size. */
export const MFD_HUGE_SHIFT = 26;
/** Mask of the huge-page size field after shifting. */
export const MFD_HUGE_MASK = 0x3f;
/** MFD_HUGETLB size field for 2 MiB pages = 0x54000000. */
export const MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
/** MFD_HUGETLB size field for 1 GiB pages = 0x78000000. */
export const MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;

/** Longest memfd name in bytes: NAME_MAX (255) minus the "memfd:" prefix. */
export const MFD_NAME_MAX_LEN = 249;
