// udmabuf: dma-bufs made from ranges of sealed memfds (/dev/udmabuf).

export { Udmabuf, UdmabufOps, type UdmabufOpsHost, type UdmabufPin } from "./ops.js";
export {
  MISC_MAJOR,
  UDMABUF_MINOR,
  UdmabufDevice,
  type UdmabufHost,
  type UdmabufItem,
  type UdmabufParams,
} from "./udmabuf.js";
