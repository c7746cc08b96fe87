/*
 * dmabuf SDK shim for wasm32-wasi programs: force-included by dmabuf-cc (-include).
 *
 * wasi-libc has no device files, no ioctl and no real mmap, and its constants are WASI's. This
 * header includes the libc headers a Linux program expects first (so the program's own includes
 * become no-ops), then replaces every errno and flag value with Linux's (generated from the
 * model) and redirects the calls that must reach the kernel to the model's `linux` imports.
 */
#ifndef DMABUF_SHIM_H
#define DMABUF_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _WASI_EMULATED_MMAN
#define _WASI_EMULATED_MMAN
#endif
#ifndef __linux__
#define __linux__ 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "dmabuf_linux_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

int dmabuf_open(const char *path, int flags, ...);
int dmabuf_close(int fd);
int dmabuf_ioctl(int fd, unsigned long request, ...);
void *dmabuf_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
int dmabuf_munmap(void *addr, size_t len);
int dmabuf_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int dmabuf_fcntl(int fd, int cmd, ...);
ssize_t dmabuf_read(int fd, void *buf, size_t count);
ssize_t dmabuf_write(int fd, const void *buf, size_t count);
int dmabuf_dup(int fd);
off_t dmabuf_lseek(int fd, off_t offset, int whence);
int dmabuf_ftruncate(int fd, off_t length);
int dmabuf_memfd_create(const char *name, unsigned int flags);
int dmabuf_getpagesize(void);
long dmabuf_sysconf(int name);
DIR *dmabuf_opendir(const char *path);
struct dirent *dmabuf_readdir(DIR *dir);
int dmabuf_closedir(DIR *dir);
char *dmabuf_strerror(int errnum);
void dmabuf_perror(const char *s);

#ifdef __cplusplus
}
#endif

#ifndef DMABUF_SHIM_IMPLEMENTATION
/* Function-like macros: an identifier not followed by '(' (a struct member or variable named
 * `close`) is left alone. */
#undef lseek
#define open(...) dmabuf_open(__VA_ARGS__)
#define close(fd) dmabuf_close(fd)
#define ioctl(...) dmabuf_ioctl(__VA_ARGS__)
#define mmap(a, l, p, f, fd, o) dmabuf_mmap(a, l, p, f, fd, o)
#define munmap(a, l) dmabuf_munmap(a, l)
#define poll(f, n, t) dmabuf_poll(f, n, t)
#define fcntl(...) dmabuf_fcntl(__VA_ARGS__)
#define read(fd, b, n) dmabuf_read(fd, b, n)
#define write(fd, b, n) dmabuf_write(fd, b, n)
#define dup(fd) dmabuf_dup(fd)
#define lseek(fd, o, w) dmabuf_lseek(fd, o, w)
#define ftruncate(fd, l) dmabuf_ftruncate(fd, l)
#define memfd_create(n, f) dmabuf_memfd_create(n, f)
#define getpagesize() dmabuf_getpagesize()
#define sysconf(n) dmabuf_sysconf(n)
#define opendir(p) dmabuf_opendir(p)
#define readdir(d) dmabuf_readdir(d)
#define closedir(d) dmabuf_closedir(d)
#define strerror(e) dmabuf_strerror(e)
#define perror(s) dmabuf_perror(s)
#endif

#endif /* DMABUF_SHIM_H */
