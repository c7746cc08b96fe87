// vfs: files, processes, mappings and the pseudo filesystems.

export {
  ANON_INODE_DEV,
  ANON_INODE_MNT_ID,
  AnonInodeFs,
  type AnonInodeHost,
} from "./anon-inode.js";
export { CharDevRegistry } from "./chrdev.js";
export {
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  type EpollEvent,
  EventPoll,
  eventPollFops,
} from "./eventpoll.js";
export {
  File,
  type FileIdentity,
  type FileOperations,
  type FileTable,
  type FileWatch,
  type IoctlArg,
} from "./file.js";
export { type Inode, type Stat, statOf } from "./inode.js";
export {
  type DeviceNode,
  type DirNode,
  dynamicDir,
  type LinkNode,
  Namespace,
  type Node,
  type RegularNode,
  StaticDir,
  symlink,
  type TextNode,
  textFile,
} from "./namespace.js";
export { type Credentials, checkPermission, fileFlagsFromOpen, openFmode } from "./open.js";
export { type Guarded, MAY_EXEC, MAY_READ, MAY_WRITE, mayAccess } from "./permission.js";
export { errnoOf, type PollFd, Process, type ProcessHost, type SendFdOptions } from "./process.js";
export { ptraceMayRead, renderFdinfo, renderMaps } from "./procfs.js";
export { type TextBytes, textBytes, toBytes } from "./text-bytes.js";
