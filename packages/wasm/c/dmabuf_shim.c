/*
 * dmabuf SDK shim for wasm32-wasi programs: each call goes to the model through one `linux`
 * import, which returns a value >= 0 or -errno with Linux's numbering.
 */
#define DMABUF_SHIM_IMPLEMENTATION
#include "dmabuf_shim.h"

#define LINUX_IMPORT(name) __attribute__((import_module("linux"), import_name(#name)))

LINUX_IMPORT(open) int32_t linux_open(const char *path, int32_t flags, int32_t mode);
LINUX_IMPORT(close) int32_t linux_close(int32_t fd);
LINUX_IMPORT(ioctl) int32_t linux_ioctl(int32_t fd, uint32_t request, uint32_t arg);
LINUX_IMPORT(mmap) int32_t linux_mmap(void *at, uint32_t len, int32_t prot, int32_t flags,
                                      int32_t fd, int64_t offset);
LINUX_IMPORT(munmap) int32_t linux_munmap(void *at, uint32_t len);
LINUX_IMPORT(poll) int32_t linux_poll(struct pollfd *fds, uint32_t nfds, int32_t timeout);
LINUX_IMPORT(fcntl) int32_t linux_fcntl(int32_t fd, int32_t cmd, int32_t arg);
LINUX_IMPORT(read) int32_t linux_read(int32_t fd, void *buf, uint32_t count);
LINUX_IMPORT(write) int32_t linux_write(int32_t fd, const void *buf, uint32_t count);
LINUX_IMPORT(dup) int32_t linux_dup(int32_t fd);
LINUX_IMPORT(lseek) int64_t linux_lseek(int32_t fd, int64_t offset, int32_t whence);
LINUX_IMPORT(ftruncate) int32_t linux_ftruncate(int32_t fd, int64_t length);
LINUX_IMPORT(memfd_create) int32_t linux_memfd_create(const char *name, uint32_t flags);
LINUX_IMPORT(page_size) int32_t linux_page_size(void);
LINUX_IMPORT(dir_open) int32_t linux_dir_open(const char *path);
LINUX_IMPORT(dir_next) int32_t linux_dir_next(int32_t handle, char *name, uint32_t cap,
                                              uint32_t *type);
LINUX_IMPORT(dir_close) int32_t linux_dir_close(int32_t handle);

static int64_t result(int64_t r) {
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

int dmabuf_open(const char *path, int flags, ...) {
  int mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return (int)result(linux_open(path, flags, mode));
}

int dmabuf_close(int fd) {
  if (fd >= 0 && fd <= 2) return close(fd);
  return (int)result(linux_close(fd));
}

int dmabuf_ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  uintptr_t arg = va_arg(ap, uintptr_t);
  va_end(ap);
  return (int)result(linux_ioctl(fd, (uint32_t)request, (uint32_t)arg));
}

void *dmabuf_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
  (void)addr;
  size_t ps = (size_t)linux_page_size();
  if (len == 0) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  size_t rounded = (len + ps - 1) & ~(ps - 1);
  if (rounded < len) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  void *at = aligned_alloc(ps, rounded);
  if (at == NULL) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  if (flags & MAP_ANONYMOUS) {
    memset(at, 0, rounded);
    return at;
  }
  int32_t r = linux_mmap(at, (uint32_t)len, prot, flags, fd, (int64_t)offset);
  if (r < 0) {
    free(at);
    errno = -r;
    return MAP_FAILED;
  }
  return at;
}

int dmabuf_munmap(void *addr, size_t len) {
  int32_t r = linux_munmap(addr, (uint32_t)len);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  free(addr);
  return 0;
}

int dmabuf_poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  return (int)result(linux_poll(fds, (uint32_t)nfds, timeout));
}

int dmabuf_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int arg = va_arg(ap, int);
  va_end(ap);
  return (int)result(linux_fcntl(fd, cmd, arg));
}

ssize_t dmabuf_read(int fd, void *buf, size_t count) {
  if (fd >= 0 && fd <= 2) return read(fd, buf, count);
  return (ssize_t)result(linux_read(fd, buf, (uint32_t)count));
}

ssize_t dmabuf_write(int fd, const void *buf, size_t count) {
  if (fd >= 0 && fd <= 2) return write(fd, buf, count);
  return (ssize_t)result(linux_write(fd, buf, (uint32_t)count));
}

int dmabuf_dup(int fd) { return (int)result(linux_dup(fd)); }

off_t dmabuf_lseek(int fd, off_t offset, int whence) {
  return (off_t)result(linux_lseek(fd, (int64_t)offset, whence));
}

int dmabuf_ftruncate(int fd, off_t length) {
  return (int)result(linux_ftruncate(fd, (int64_t)length));
}

int dmabuf_memfd_create(const char *name, unsigned int flags) {
  return (int)result(linux_memfd_create(name, flags));
}

int dmabuf_getpagesize(void) { return linux_page_size(); }

long dmabuf_sysconf(int name) {
  if (name == _SC_PAGESIZE) return linux_page_size();
  return sysconf(name);
}

/* A directory stream read from the model's namespace (getdents64 gives . and .. too). */
struct dmabuf_dir {
  int32_t handle;
  union {
    struct dirent entry;
    char space[sizeof(struct dirent) + 256];
  } u;
};

DIR *dmabuf_opendir(const char *path) {
  int32_t h = linux_dir_open(path);
  if (h < 0) {
    errno = -h;
    return NULL;
  }
  struct dmabuf_dir *d = calloc(1, sizeof *d);
  if (d == NULL) {
    linux_dir_close(h);
    errno = ENOMEM;
    return NULL;
  }
  d->handle = h;
  return (DIR *)d;
}

struct dirent *dmabuf_readdir(DIR *dir) {
  struct dmabuf_dir *d = (struct dmabuf_dir *)dir;
  uint32_t type = 0;
  int32_t n = linux_dir_next(d->handle, d->u.entry.d_name, 256, &type);
  if (n <= 0) {
    if (n < 0) errno = -n;
    return NULL;
  }
  d->u.entry.d_ino = 0;
  d->u.entry.d_type = (unsigned char)type;
  return &d->u.entry;
}

int dmabuf_closedir(DIR *dir) {
  struct dmabuf_dir *d = (struct dmabuf_dir *)dir;
  int32_t r = linux_dir_close(d->handle);
  free(d);
  return (int)result(r);
}

#include "dmabuf_strerror.inc"

char *dmabuf_strerror(int errnum) {
  static char unknown[32];
  int n = (int)(sizeof dmabuf_strerror_table / sizeof dmabuf_strerror_table[0]);
  if (errnum >= 0 && errnum < n && dmabuf_strerror_table[errnum] != NULL)
    return (char *)dmabuf_strerror_table[errnum];
  snprintf(unknown, sizeof unknown, "Unknown error %d", errnum);
  return unknown;
}

void dmabuf_perror(const char *s) {
  const char *msg = dmabuf_strerror(errno);
  if (s != NULL && *s != '\0')
    fprintf(stderr, "%s: %s\n", s, msg);
  else
    fprintf(stderr, "%s\n", msg);
}
