// Filesystem magic numbers (include/uapi/linux/magic.h), as fstatfs reports them in f_type.

/** f_type of devtmpfs (a tmpfs). */
export const TMPFS_MAGIC = 0x01021994;
/** f_type of procfs. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** f_type of sysfs. */
export const SYSFS_MAGIC = 0x62656572;
/** f_type of debugfs. */
export const DEBUGFS_MAGIC = 0x64626720;
/** Magic number of hugetlbfs (`HUGETLBFS_MAGIC`), as fstatfs reports it. */
export const HUGETLBFS_MAGIC = 0x958458f6;
/** Magic number of the anon-inode filesystem (`ANON_INODE_FS_MAGIC`), as fstatfs reports it. */
export const ANON_INODE_FS_MAGIC = 0x09041934;
