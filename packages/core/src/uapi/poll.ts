// poll(2) event bits as Linux defines them.

/** There is data to read. */
export const POLLIN = 0x0001;
/** There is urgent data to read. */
export const POLLPRI = 0x0002;
/** Writing now will not block. */
export const POLLOUT = 0x0004;
/** Error condition (always reported). */
export const POLLERR = 0x0008;
/** Hang up (always reported). */
export const POLLHUP = 0x0010;
/** Invalid fd (always reported). */
export const POLLNVAL = 0x0020;
/** Normal data may be read. */
export const POLLRDNORM = 0x0040;
/** Priority band data may be read. */
export const POLLRDBAND = 0x0080;
/** Normal data may be written. */
export const POLLWRNORM = 0x0100;
/** Priority band data may be written. */
export const POLLWRBAND = 0x0200;
/** The mask a file without a poll method reports (DEFAULT_POLLMASK). */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
