/*
 * Error numbers, with Linux's values (include/uapi/asm-generic/errno-base.h
 * and errno.h): noos calls return them negated, so a Linux ABI layer can pass
 * them through unchanged.
 */
#ifndef NOOS_ERRNO_H
#define NOOS_ERRNO_H

/*
 * errno, per thread, for the POSIX-style interfaces that use it (lwIP's
 * sockets); noos's own calls return -errno instead and never set it.
 */
int *__errno_location(void) __attribute__((const));
#define errno (*__errno_location())

#define EPERM           1
#define ENOENT          2
#define ESRCH           3
#define EINTR           4
#define EIO             5
#define ENXIO           6
#define E2BIG           7
#define EBADF           9
#define EAGAIN          11
#define ENOMEM          12
#define EACCES          13
#define EFAULT          14
#define EBUSY           16
#define EEXIST          17
#define ENODEV          19
#define EINVAL          22
#define ENFILE          23
#define EMFILE          24
#define ENOSPC          28
#define ESPIPE          29
#define EPIPE           32
#define EDOM            33
#define ERANGE          34
#define EDEADLK         35
#define ENAMETOOLONG    36
#define ENOSYS          38
#define ENOTEMPTY       39
#define ELOOP           40
#define EWOULDBLOCK     EAGAIN
#define ENODATA         61
#define ETIME           62
#define EOVERFLOW       75
#define EBADMSG         74
#define EILSEQ          84
#define ENOTSOCK        88
#define EDESTADDRREQ    89
#define EMSGSIZE        90
#define EPROTOTYPE      91
#define ENOPROTOOPT     92
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define EOPNOTSUPP      95
#define ENOTSUP         EOPNOTSUPP
#define EAFNOSUPPORT    97
#define EADDRINUSE      98
#define EADDRNOTAVAIL   99
#define ENETDOWN        100
#define ENETUNREACH     101
#define ECONNABORTED    103
#define ECONNRESET      104
#define ENOBUFS         105
#define EISCONN         106
#define ENOTCONN        107
#define ETIMEDOUT       110
#define ECONNREFUSED    111
#define EHOSTUNREACH    113
#define EALREADY        114
#define EINPROGRESS     115
#define ECANCELED       125

#endif
