/*
 * lwIP's compiler and platform port for noos (lwIP 2.1 src/include/lwip/arch.h
 * lists what a port may define). lwIP is built freestanding against
 * rt/include: no <inttypes.h>, <ctype.h> or <unistd.h> there, so the
 * printf formats, ssize_t and the ctype macros are set here or taken from
 * lwIP's own fallbacks. Diagnostics go to the console; a failed lwIP
 * assertion is a broken invariant and panics with a backtrace.
 */
#ifndef NOOS_LWIP_ARCH_CC_H
#define NOOS_LWIP_ARCH_CC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN /* both arches noos runs on (the host's libc may say so too) */
#endif

/* Formats for lwIP's types (no <inttypes.h> in rt/include). */
#define LWIP_NO_INTTYPES_H 1
#define X8_F               "02x"
#define U16_F              "u"
#define S16_F              "d"
#define X16_F              "x"
#define U32_F              "u"
#define S32_F              "d"
#define X32_F              "x"
#define SZT_F              "zu"

/* No <ctype.h> or <unistd.h>: lwIP's own character macros, and ssize_t here. */
#define LWIP_NO_CTYPE_H  1
#define LWIP_NO_UNISTD_H 1
#ifndef SSIZE_MAX
typedef long ssize_t;
#define SSIZE_MAX LONG_MAX
#endif

/* errno is per thread (rt/include/errno.h); the socket layer sets it. */
#define LWIP_ERRNO_STDINCLUDE 1

/* lwIP's struct timeval for SO_RCVTIMEO and select (rt/include has none). */
#define LWIP_TIMEVAL_PRIVATE 1

#ifdef NOOS_NET_HOST
/* The host build (fuzzer): the host C library's assert. */
#include <assert.h>
#define LWIP_PLATFORM_DIAG(x)                                                                      \
	do {                                                                                       \
		printf x;                                                                          \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
	do {                                                                                       \
		fprintf(stderr, "lwIP assertion: %s\n", x);                                        \
		abort();                                                                           \
	} while (0)
#else
void panic(const char *fmt, ...) __attribute__((noreturn, format(__printf__, 1, 2)));
#define LWIP_PLATFORM_DIAG(x)                                                                      \
	do {                                                                                       \
		printf x;                                                                          \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
	panic("lwIP assertion \"%s\" failed at %s:%d", x, __FILE__, __LINE__)
#endif

/*
 * net/rand.c, randomness from the entropy pool: LWIP_RAND for DHCP xids, DNS
 * ids and ports, the first ephemeral ports; net_isn for net/isn.c's TCP
 * initial sequence numbers (RFC 6528) over a connection's address bytes.
 */
uint32_t net_rand(void);
uint32_t net_isn(const void *conn, size_t len);
#define LWIP_RAND() net_rand()

#endif
