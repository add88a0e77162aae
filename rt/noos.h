/*
 * noos.h — the one public header of the noos runtime.
 *
 * Error convention: every call returns 0 or a non-negative value on success,
 * or a negative error code whose numbers equal Linux errno values (-ENOMEM is
 * -12), so a Linux ABI layer passes them through unchanged.
 *
 * The application provides int main(int argc, char **argv). argv comes from
 * the boot command line (QEMU -append): words of the form key=value before a
 * lone "--" are the environment (noos_getenv), the other words and everything
 * after "--" are arguments. main's return value is the VM's exit status.
 */
#ifndef NOOS_H
#define NOOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- lifecycle ---- */

/* Stop the VM with this exit status (0..127 survive every VMM noos supports). */
void noos_exit(int status) __attribute__((noreturn));
/* Power the VM off (exit status 0). */
void noos_poweroff(void) __attribute__((noreturn));
/* The value of key=value from the boot command line, or NULL. */
const char *noos_getenv(const char *key);

/* ---- console ---- */

/* Write len bytes to the serial console; returns len. */
long noos_console_write(const void *buf, size_t len);
/*
 * Read from the serial console: waits until at least one byte has arrived,
 * then returns what is there, up to len bytes (0 when len is 0). The UART is
 * polled every millisecond while nobody else runs; readers take turns.
 */
long noos_console_read(void *buf, size_t len);

/* ---- random numbers ---- */

/*
 * Fill buf with len bytes from noos's cryptographic generator (ChaCha20,
 * seeded and reseeded from virtio-rng and the CPU's RDSEED/RDRAND/RNDR).
 * Until the pool has been seeded with 256 bits of entropy it waits, polling
 * the sources, for at most a few seconds. Returns len; -EAGAIN if the pool
 * could not be seeded in time, -ENODEV if there is no entropy source at all,
 * -EINVAL for a bad buffer. It never returns predictable bytes.
 */
long noos_random(void *buf, size_t len);

/* ---- memory ---- */

#define NOOS_PAGE_SIZE  4096
#define NOOS_MEM_ORDERS 19 /* page allocator blocks of NOOS_PAGE_SIZE << 0..18 (4 KiB..1 GiB) */

/*
 * Physical pages straight from the page allocator: a block of
 * NOOS_PAGE_SIZE << order bytes, aligned to its size, mapped read-write
 * (not executable) and not cleared. NULL when no block that large is free or
 * order >= NOOS_MEM_ORDERS. noos_pages_free takes exactly such a block back;
 * freeing anything else, or twice, panics with a clear message.
 */
void *noos_pages_alloc(unsigned order);
void noos_pages_free(void *block);

struct noos_mem_stats {
	uint64_t total_pages;                   /* RAM pages the page allocator manages */
	uint64_t free_pages;                    /* of which free */
	uint64_t free_blocks[NOOS_MEM_ORDERS];  /* free blocks of each order */
	uint64_t used_blocks[NOOS_MEM_ORDERS];  /* allocated blocks of each order */
	uint64_t failed_allocs;                 /* page requests refused for lack of memory */
	uint64_t heap_pages;                    /* pages the heap holds (slabs, large blocks) */
	uint64_t heap_bytes;                    /* bytes in live malloc blocks (usable size) */
	uint64_t heap_objects;                  /* live malloc blocks */
	uint64_t noos_bytes;                    /* RAM noos itself used at boot: image, metadata */
	uint64_t ram_bytes;                     /* RAM the boot info reported that noos maps */
	uint64_t pagetable_pages;               /* pages holding page tables now */
	uint64_t vm_reserved_bytes;             /* address space reserved (noos_vm_reserve, stacks) */
	uint64_t vm_resident_pages;             /* pages behind it (touched commits, stacks) */
	uint64_t vm_spans;                      /* ranges the reservation bookkeeping holds */
};
/* Fill *st with the page allocator's and the heap's counters; -EINVAL if st is NULL. */
int noos_mem_stats(struct noos_mem_stats *st);

/*
 * Virtual memory, for a language runtime's mmap. Address space is reserved
 * with nothing behind it; committed memory costs nothing until touched, and
 * then each page appears zeroed (demand-zero, through the page-fault
 * handler). Addresses and sizes are multiples of NOOS_PAGE_SIZE; a range
 * given to commit, decommit, protect and release may span several
 * reservations but must lie wholly in reserved address space.
 *
 *   reserve   address space only; *addr at hint if that range is free, else
 *             anywhere. -EINVAL (size 0 or misaligned), -ENOMEM (no room).
 *   commit    make the range accessible with prot. Pages already touched
 *             keep their contents (only the protection changes).
 *   decommit  like MADV_DONTNEED + PROT_NONE: the memory goes back to the
 *             page allocator and the range is reserved only; a touch is a
 *             fault until it is committed again, and then it reads zeros.
 *   protect   change the protection of committed memory (-EINVAL elsewhere);
 *             NOOS_PROT_NONE keeps the contents but allows no access.
 *   release   give the range back (pages, page tables, address space).
 *             Releasing what was never reserved panics in debug builds.
 *
 * prot: NOOS_PROT_NONE or READ, optionally with WRITE or EXEC. WRITE and
 * EXEC together are refused (-EINVAL): memory is never writable and
 * executable at once (W^X). EXEC or WRITE imply READ. A touch the
 * protection does not allow panics with a report of the address and why.
 * Every call returns 0, -EINVAL (misaligned, outside reserved space, bad
 * prot) or -ENOMEM (no memory for the bookkeeping or the page tables).
 */
#define NOOS_PROT_NONE  0
#define NOOS_PROT_READ  1
#define NOOS_PROT_WRITE 2
#define NOOS_PROT_EXEC  4
int noos_vm_reserve(size_t size, void *hint, void **addr);
int noos_vm_commit(void *addr, size_t size, int prot);
int noos_vm_decommit(void *addr, size_t size);
int noos_vm_protect(void *addr, size_t size, int prot);
int noos_vm_release(void *addr, size_t size);

/* ---- threads, time and synchronisation ---- */

/*
 * Threads run on every vCPU, preemptively: strict priorities, round robin
 * (10 ms slices) among equal ones. main() runs in thread "main"; the VM
 * exits with main's return value, or with 0 when every thread has exited.
 * Blocking calls may not be made from interrupt handlers (they return
 * -EPERM). Timeouts are relative, in nanoseconds of the monotonic clock;
 * NOOS_FOREVER means none. Deadlines are never early.
 */
#define NOOS_FOREVER UINT64_MAX

typedef struct noos_thread noos_thread_t; /* opaque; invalid once joined or exited detached */

#define NOOS_PRIO_MIN     1
#define NOOS_PRIO_DEFAULT 16
#define NOOS_PRIO_MAX     31

#define NOOS_THREAD_DETACHED 0x1 /* freed when it exits; cannot be joined */

/* Zeroed fields take the defaults. */
struct noos_thread_opts {
	const char *name;  /* copied (23 characters kept); NULL: "thread" */
	size_t stack_size; /* bytes, rounded up; 0: 64 KiB */
	int priority;      /* NOOS_PRIO_MIN..NOOS_PRIO_MAX; 0: NOOS_PRIO_DEFAULT */
	uint64_t affinity; /* bit n: may run on CPU n; 0: any CPU */
	unsigned flags;    /* NOOS_THREAD_DETACHED */
};

/*
 * Start fn(arg) in a new thread; *out (may be NULL for detached threads)
 * gets its handle. Returns 0, -EINVAL (no fn, bad option, affinity without
 * an online CPU) or -ENOMEM. A new thread starts with interrupts on, the
 * default FP environment and TLS base 0.
 */
int noos_thread_create(noos_thread_t **out, void *(*fn)(void *), void *arg,
                       const struct noos_thread_opts *opts);
/*
 * Wait for t to exit and free it; *retval (if not NULL) gets fn's result.
 * -EINVAL if t is detached or another thread joins it, -EDEADLK for the
 * caller itself, -ESRCH for a bad handle.
 */
int noos_thread_join(noos_thread_t *t, void **retval);
/* t frees itself when it exits (now, if it has). -EINVAL if already detached, -ESRCH bad handle. */
int noos_thread_detach(noos_thread_t *t);
/* End the calling thread with retval (what join returns). */
void noos_thread_exit(void *retval) __attribute__((noreturn));
/* Let other threads of the same priority run first. */
void noos_thread_yield(void);
/* The calling thread. */
noos_thread_t *noos_thread_self(void);
/* Restrict t (NULL: the caller) to the CPUs in mask; it moves at once. -EINVAL: none online. */
int noos_thread_set_affinity(noos_thread_t *t, uint64_t mask);
/* Change t's (NULL: the caller's) priority. -EINVAL out of range. */
int noos_thread_set_priority(noos_thread_t *t, int priority);
/* t's (NULL: the caller's) id (unique, never 0) and name; 0 / NULL for a bad handle. */
uint32_t noos_thread_id(noos_thread_t *t);
const char *noos_thread_name(noos_thread_t *t);

/*
 * Thread-local storage: the calling thread's thread pointer (x86_64 FS base,
 * aarch64 TPIDR_EL0), switched with the thread; compilers' TLS code reads
 * the register directly. noos_tls_get reads the register.
 */
int noos_tls_set(void *base);
void *noos_tls_get(void);

/*
 * futex: sleep while *addr == expected, until woken, or until timeout_ns
 * passes. The check and the sleep are atomic with respect to
 * noos_futex_wake on the same address, from any CPU. Returns 0 when woken
 * (callers re-check their condition: a wake meant for a word's previous use
 * may arrive), -EAGAIN when *addr != expected, -ETIMEDOUT, -EINVAL (addr
 * NULL or not 4-byte aligned), -EPERM in an interrupt handler.
 */
int noos_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
/* Wake up to n threads waiting on addr, oldest first; returns how many. Any context. */
int noos_futex_wake(uint32_t *addr, int n);

/*
 * A sleeping mutex (not recursive). Zero-initialised or NOOS_MUTEX_INIT is
 * unlocked. lock: 0, -EDEADLK if the caller holds it, -EPERM in an
 * interrupt handler; trylock: 0 or -EBUSY; unlock: 0, -EPERM if the caller
 * does not hold it.
 */
typedef struct {
	uint32_t state; /* 0 free, 1 held, 2 held with waiters */
	uint32_t owner; /* holder's noos_thread_id */
} noos_mutex_t;
#define NOOS_MUTEX_INIT {0, 0}
int noos_mutex_init(noos_mutex_t *m);
int noos_mutex_lock(noos_mutex_t *m);
int noos_mutex_trylock(noos_mutex_t *m);
int noos_mutex_unlock(noos_mutex_t *m);

/*
 * Condition variable. wait unlocks m (which the caller holds), sleeps until
 * signalled, and locks m again; it may also return spuriously, so callers
 * loop on their condition. timedwait returns -ETIMEDOUT when timeout_ns
 * passes first. -EPERM if the caller does not hold m.
 */
typedef struct {
	uint32_t seq;     /* bumped by every signal */
	uint32_t waiters; /* threads in wait */
} noos_cond_t;
#define NOOS_COND_INIT {0, 0}
int noos_cond_init(noos_cond_t *c);
int noos_cond_wait(noos_cond_t *c, noos_mutex_t *m);
int noos_cond_timedwait(noos_cond_t *c, noos_mutex_t *m, uint64_t timeout_ns);
int noos_cond_signal(noos_cond_t *c);    /* wake one waiter */
int noos_cond_broadcast(noos_cond_t *c); /* wake them all */

/*
 * Counting semaphore. wait: 0, or -ETIMEDOUT (timedwait), -EAGAIN
 * (trywait); post: 0, or -EOVERFLOW at NOOS_SEM_MAX. post may be called
 * from interrupt handlers.
 */
typedef struct {
	uint32_t count;
	uint32_t waiters;
} noos_sem_t;
#define NOOS_SEM_MAX 0x7fffffffu
int noos_sem_init(noos_sem_t *s, unsigned value); /* -EINVAL above NOOS_SEM_MAX */
int noos_sem_wait(noos_sem_t *s);
int noos_sem_timedwait(noos_sem_t *s, uint64_t timeout_ns);
int noos_sem_trywait(noos_sem_t *s);
int noos_sem_post(noos_sem_t *s);
int noos_sem_value(noos_sem_t *s); /* the count now */

/* Sleep at least ns nanoseconds; 0, or -EPERM in an interrupt handler. */
int noos_sleep_ns(uint64_t ns);
/* Monotonic nanoseconds since boot, the same on every CPU. */
uint64_t noos_time_ns(void);
/* Nanoseconds since 1970-01-01 UTC, or -ENODEV / -EIO without a usable clock. */
int64_t noos_wallclock_ns(void);
/* CPUs running threads, and the one the caller runs on now (it may move at once). */
unsigned noos_cpu_count(void);
unsigned noos_cpu_id(void);

/*
 * One-shot and periodic timers. fn(arg) runs in thread context, in noos's
 * "timers" thread, never earlier than the deadline; callbacks of all timers
 * run one at a time, so a slow one delays the others. A periodic timer keeps
 * its phase (no drift) and skips periods missed while a callback overran.
 *   create: -EINVAL (no fn), -ENOMEM.
 *   arm:    first firing delay_ns from now, then every period_ns (0: once);
 *           re-arming an armed timer moves it.
 *   cancel: disarm; returns 1 if it was armed, else 0. When it returns, no
 *           callback of this timer is running (unless called from that
 *           callback itself).
 *   delete: cancel and free; -EBUSY from the timer's own callback.
 */
typedef struct noos_timer noos_timer_t;
int noos_timer_create(noos_timer_t **out, void (*fn)(void *arg), void *arg);
int noos_timer_arm(noos_timer_t *t, uint64_t delay_ns, uint64_t period_ns);
int noos_timer_cancel(noos_timer_t *t);
int noos_timer_delete(noos_timer_t *t);

/* What one CPU's scheduler has done since boot (for tests and benchmarks). */
struct noos_sched_stats {
	uint64_t switches;    /* threads switched to */
	uint64_t preemptions; /* timer interrupts that rescheduled (slice ends, sleepers woken) */
	uint64_t steals;      /* threads taken from other CPUs' queues while idle */
	uint64_t queued;      /* threads waiting in its run queue now */
};
int noos_sched_stats(unsigned cpu, struct noos_sched_stats *st); /* -EINVAL: no such CPU */

/*
 * ---- network ----
 *
 * lwIP 2.1 on virtio-net (net/). noos_net_start starts lwIP and one
 * interface per virtio-net device (en1, en2, ...; lo0 is the loopback):
 * IPv4 by DHCP, or from ip=ADDR[/PREFIX] gw=ADDR dns=ADDR[,ADDR] on the
 * command line for the first; IPv6 link-local and SLAAC. Returns the
 * number of interfaces (0 without a device); calling it again returns the
 * same. noos_net_wait waits until some interface has an IPv4 address: 0,
 * -ETIMEDOUT, -ENODEV before noos_net_start.
 */
int noos_net_start(void);
int noos_net_wait(uint64_t timeout_ns);

/*
 * Network counters: frames and drops of the virtio-net drivers (summed over
 * the interfaces) and of each lwIP layer since boot, and what lwIP holds
 * now, for leak checks (at rest, pbufs and memp_used return to their
 * baseline). All zero before noos_net_start. 0, or -EINVAL if st is NULL.
 */
struct noos_net_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_dropped; /* by the drivers: truncated, oversized, bad virtio-net header */
	uint64_t tx_dropped; /* by the drivers: ring full, malformed */
	uint64_t link_drops, ip_drops, ip6_drops, icmp_drops, udp_drops, tcp_drops; /* by lwIP */
	uint64_t pbufs;      /* pbufs held now (PBUF_POOL, PBUF_REF/ROM) */
	uint64_t memp_used;  /* elements of all lwIP pools in use now (pcbs, segments, pbufs ...) */
	uint64_t mem_used;   /* bytes lwIP holds from the heap now (PBUF_RAM ...) */
	uint64_t mem_errors; /* lwIP allocations refused, heap and pools */
};
int noos_net_stats(struct noos_net_stats *st);

/*
 * ---- sockets ----
 *
 * TCP and UDP over IPv4 and IPv6 on lwIP (net/socket*.c), after
 * noos_net_start. Descriptors are small non-negative ints from noos's own
 * table, shared with event queues (noos_epoll_create) and event counters
 * (noos_eventfd); they are not a libc's file descriptors. Constants and
 * structures have Linux's values and layouts with a NOOS_/noos_ prefix,
 * so they never clash with an application's libc and a Linux ABI layer
 * passes them through. Ports and addresses in sockaddrs are in network
 * byte order, as in Linux.
 *
 * Blocking calls sleep (they never spin) unless the socket is non-blocking
 * (NOOS_SOCK_NONBLOCK, noos_set_nonblock) or the call has
 * NOOS_MSG_DONTWAIT: then they return -EAGAIN (connect: -EINPROGRESS).
 * NOOS_SO_RCVTIMEO / NOOS_SO_SNDTIMEO (struct noos_timeval, as Linux) bound
 * blocking receives and accepts / sends; -EAGAIN when they expire.
 * Closing a descriptor that other threads are blocked on (recv, accept,
 * send, connect) wakes them: their calls return -EBADF, as a call made
 * after the close would. An AF_INET6 socket also serves IPv4 (peers appear
 * as ::ffff:a.b.c.d) unless NOOS_IPV6_V6ONLY is set, as on Linux.
 * Every call returns -EBADF for a descriptor that is not open and
 * -ENOTSOCK for one that is not a socket.
 */
#define NOOS_AF_UNSPEC 0
#define NOOS_AF_INET   2
#define NOOS_AF_INET6  10

#define NOOS_SOCK_STREAM   1
#define NOOS_SOCK_DGRAM    2
#define NOOS_SOCK_NONBLOCK 0x800   /* or'd into socket()'s type, accept4()'s flags */
#define NOOS_SOCK_CLOEXEC  0x80000 /* accepted and ignored: there is no exec */

#define NOOS_IPPROTO_IP   0
#define NOOS_IPPROTO_TCP  6
#define NOOS_IPPROTO_UDP  17
#define NOOS_IPPROTO_IPV6 41

#define NOOS_INADDR_ANY       0x00000000u
#define NOOS_INADDR_LOOPBACK  0x7f000001u /* host order: noos_htonl it */
#define NOOS_INET_ADDRSTRLEN  16
#define NOOS_INET6_ADDRSTRLEN 46

typedef uint32_t noos_socklen_t;
typedef uint16_t noos_sa_family_t;

struct noos_sockaddr {
	noos_sa_family_t sa_family;
	char sa_data[14];
};
struct noos_in_addr {
	uint32_t s_addr; /* network order */
};
struct noos_sockaddr_in { /* 16 bytes */
	noos_sa_family_t sin_family; /* NOOS_AF_INET */
	uint16_t sin_port;           /* network order */
	struct noos_in_addr sin_addr;
	uint8_t sin_zero[8];
};
struct noos_in6_addr {
	uint8_t s6_u8[16]; /* not s6_addr: libcs and lwIP make that a macro */
};
struct noos_sockaddr_in6 { /* 28 bytes */
	noos_sa_family_t sin6_family; /* NOOS_AF_INET6 */
	uint16_t sin6_port;           /* network order */
	uint32_t sin6_flowinfo;
	struct noos_in6_addr sin6_addr;
	uint32_t sin6_scope_id; /* interface index, for link-local addresses */
};
struct noos_sockaddr_storage { /* 128 bytes: room for any of the above */
	noos_sa_family_t ss_family;
	char ss_pad[118];
	uint64_t ss_align;
};
struct noos_timeval { /* NOOS_SO_RCVTIMEO, NOOS_SO_SNDTIMEO; {0, 0}: no timeout */
	long tv_sec;
	long tv_usec;
};

/* Byte order (both arches are little-endian). */
static inline uint16_t noos_htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint16_t noos_ntohs(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t noos_htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint32_t noos_ntohl(uint32_t v) { return __builtin_bswap32(v); }

/* Text to address (af NOOS_AF_INET or NOOS_AF_INET6): 1, 0 if src does not parse, -EAFNOSUPPORT. */
int noos_inet_pton(int af, const char *src, void *dst);
/* Address to text in dst (size bytes): the length, -ENOSPC if it does not fit, -EAFNOSUPPORT. */
int noos_inet_ntop(int af, const void *src, char *dst, noos_socklen_t size);

/*
 * A new socket: domain NOOS_AF_INET or NOOS_AF_INET6, type NOOS_SOCK_STREAM
 * (TCP) or NOOS_SOCK_DGRAM (UDP), optionally | NOOS_SOCK_NONBLOCK;
 * protocol 0 or the type's own. Returns the descriptor; -EAFNOSUPPORT,
 * -EINVAL (type or flags), -EPROTONOSUPPORT, -EMFILE (table full), -ENOMEM
 * (no memory or no lwIP control block left). The first socket or event queue
 * starts the network (noos_net_start) if the application has not.
 */
int noos_socket(int domain, int type, int protocol);
/*
 * Bind to a local address (any address, and/or port 0 for an ephemeral
 * one). -EINVAL (already bound, addrlen short), -EAFNOSUPPORT (family is not
 * the socket's), -EADDRINUSE, -EADDRNOTAVAIL (no interface has it).
 */
int noos_bind(int fd, const struct noos_sockaddr *addr, noos_socklen_t addrlen);
/* TCP: accept connections, up to backlog (1..255) waiting. -EOPNOTSUPP (UDP), -EINVAL (connected), -EADDRINUSE. */
int noos_listen(int fd, int backlog);
/*
 * Take a connection from a listening socket: its new descriptor; the
 * peer's address in *addr (truncated to *addrlen, which is set to the full
 * size; both may be NULL). accept4's flags: NOOS_SOCK_NONBLOCK,
 * NOOS_SOCK_CLOEXEC. -EINVAL (not listening, bad flags), -EOPNOTSUPP (UDP),
 * -EAGAIN, -EMFILE, -EBADF (closed while waiting).
 */
int noos_accept(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen);
int noos_accept4(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen, int flags);
/*
 * TCP: connect, binding an ephemeral port first if needed. Non-blocking:
 * -EINPROGRESS, then the socket turns writable and NOOS_SO_ERROR tells the
 * outcome (0 or the error). -EALREADY (under way), -EISCONN,
 * -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH (also: an IPv4-mapped address on
 * an IPv6-only socket), -EAFNOSUPPORT, -EINVAL (addrlen), -EBADF (closed
 * while waiting); SO_SNDTIMEO expiring: -EINPROGRESS (it goes on), as Linux.
 * UDP: set the default destination and accept datagrams only from it;
 * NOOS_AF_UNSPEC dissolves the association.
 */
int noos_connect(int fd, const struct noos_sockaddr *addr, noos_socklen_t addrlen);

#define NOOS_MSG_PEEK     0x2    /* recv: leave the data queued */
#define NOOS_MSG_TRUNC    0x20   /* UDP recv: return the datagram's full length */
#define NOOS_MSG_DONTWAIT 0x40   /* this call does not block */
#define NOOS_MSG_WAITALL  0x100  /* TCP recv: block until len bytes, EOF or an error */
#define NOOS_MSG_NOSIGNAL 0x4000 /* accepted and ignored: there are no signals */

/*
 * Send len bytes: the count queued. TCP blocks until all are queued
 * (non-blocking: as many as fit, or -EAGAIN). UDP sends one datagram
 * (-EMSGSIZE above 65507 bytes for IPv4, 65527 for IPv6). -ENOTCONN,
 * -EPIPE (shut down for writing or closed by us), -ECONNRESET,
 * -EDESTADDRREQ (unconnected UDP), -EACCES (UDP to 255.255.255.255 without
 * NOOS_SO_BROADCAST), -ENOBUFS, -EAGAIN, -EINVAL (flags). A blocking send
 * that an error, a timeout or a close interrupts returns what it queued, if
 * anything. A connection dropped by lwIP's retransmission or keepalive
 * timers reports -ETIMEDOUT.
 */
long noos_send(int fd, const void *buf, size_t len, int flags);
/* send to addr (UDP; for TCP addr is ignored, as Linux does when connected). */
long noos_sendto(int fd, const void *buf, size_t len, int flags, const struct noos_sockaddr *addr,
                 noos_socklen_t addrlen);
/*
 * Receive up to len bytes: the count, 0 at end of stream (TCP, after the
 * peer's FIN or our SHUT_RD). UDP: one datagram; if longer than len the
 * rest is discarded (NOOS_MSG_TRUNC: its full length is returned).
 * -EAGAIN (nothing yet; or SO_RCVTIMEO expired), -ENOTCONN, -ECONNRESET,
 * -EINVAL (flags).
 */
long noos_recv(int fd, void *buf, size_t len, int flags);
/* recv, and the sender's address as accept reports it (addr, addrlen may be NULL). */
long noos_recvfrom(int fd, void *buf, size_t len, int flags, struct noos_sockaddr *addr,
                   noos_socklen_t *addrlen);

#define NOOS_SHUT_RD   0
#define NOOS_SHUT_WR   1
#define NOOS_SHUT_RDWR 2
/* Stop receiving (recv returns 0) and/or sending (TCP sends FIN). -ENOTCONN, -EINVAL (how). */
int noos_shutdown(int fd, int how);
/*
 * Close a socket, an event queue or an event counter. A TCP connection
 * closes gracefully in the background (sending what is queued, then FIN);
 * with unread data it is reset, as Linux does. The socket leaves every
 * event queue at once.
 */
int noos_close(int fd);
/* Non-blocking mode on (on != 0) or off, for a socket or an event counter (else -ENOTSOCK). */
int noos_set_nonblock(int fd, int on);

/* Options: Linux's levels, names and value types (int unless said). */
#define NOOS_SOL_SOCKET     1
#define NOOS_SO_REUSEADDR   2  /* bind to a port that has connections in TIME_WAIT */
#define NOOS_SO_TYPE        3  /* get: NOOS_SOCK_STREAM / DGRAM */
#define NOOS_SO_ERROR       4  /* get: the pending error (positive errno), and clear it */
#define NOOS_SO_BROADCAST   6  /* UDP: may send to broadcast addresses */
#define NOOS_SO_SNDBUF      7  /* bytes queued for sending at most, TCP: 256 KiB at most (set: doubled, as Linux) */
#define NOOS_SO_RCVBUF      8  /* UDP: bytes queued for reading at most; TCP: reported only,
                                  the window is lwIP's 256 KiB (set: doubled) */
#define NOOS_SO_KEEPALIVE   9  /* TCP keepalive probes (times: NOOS_TCP_KEEP*) */
#define NOOS_SO_RCVTIMEO    20 /* struct noos_timeval */
#define NOOS_SO_SNDTIMEO    21 /* struct noos_timeval */
#define NOOS_SO_ACCEPTCONN  30 /* get: 1 if listening */
#define NOOS_SO_PROTOCOL    38 /* get */
#define NOOS_SO_DOMAIN      39 /* get */
#define NOOS_TCP_NODELAY    1  /* level NOOS_IPPROTO_TCP: no Nagle delay */
#define NOOS_TCP_KEEPIDLE   4  /* seconds idle before the first probe */
#define NOOS_TCP_KEEPINTVL  5  /* seconds between probes */
#define NOOS_TCP_KEEPCNT    6  /* probes before the connection is dropped */
#define NOOS_IPV6_V6ONLY    26 /* level NOOS_IPPROTO_IPV6, before bind: IPv6 only */
/*
 * set: -ENOPROTOOPT (unknown level or name), -EINVAL (optlen too small,
 * bad value; -EDOM: a timeval out of range). get: the value, truncated to
 * *optlen, which is set to the length copied (as Linux); -ENOPROTOOPT,
 * -EINVAL (val or optlen NULL).
 */
int noos_setsockopt(int fd, int level, int name, const void *val, noos_socklen_t optlen);
int noos_getsockopt(int fd, int level, int name, void *val, noos_socklen_t *optlen);
/* The local / peer address (truncated to *addrlen, which is set to the full size). Peer: -ENOTCONN. */
int noos_getsockname(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen);
int noos_getpeername(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen);

/*
 * Names to addresses: numeric IPv4/IPv6 hosts without DNS, others through
 * lwIP's DNS resolver (A and AAAA; servers from DHCP, router
 * advertisements or dns= on the command line). node NULL: the any address
 * with NOOS_AI_PASSIVE, else loopback. service: a port number (no services
 * database). Results for both families when hints allow (IPv4 first), and
 * one entry per socket type when hints->ai_socktype is 0. Returns 0 and
 * *res, to be freed with noos_freeaddrinfo; -ENOENT (no such name, no
 * address of the family, or no answer within lwIP's retries: its resolver
 * does not tell these apart), -EAGAIN (no DNS server configured),
 * -EAFNOSUPPORT, -ESOCKTNOSUPPORT, -EINVAL (bad service, flags, or both
 * node and service NULL), -ENOMEM.
 */
#define NOOS_AI_PASSIVE     0x1
#define NOOS_AI_CANONNAME   0x2 /* ai_canonname: the name as given */
#define NOOS_AI_NUMERICHOST 0x4 /* never ask DNS */
#define NOOS_AI_NUMERICSERV 0x400
struct noos_addrinfo {
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	noos_socklen_t ai_addrlen;
	struct noos_sockaddr *ai_addr;
	char *ai_canonname;
	struct noos_addrinfo *ai_next;
};
int noos_getaddrinfo(const char *node, const char *service, const struct noos_addrinfo *hints,
                     struct noos_addrinfo **res);
void noos_freeaddrinfo(struct noos_addrinfo *res);

/*
 * Interfaces: the loopback lo0 and en1, en2, ... (one per virtio-net
 * device), numbered 0..noos_if_count()-1. index is what sin6_scope_id
 * takes. Addresses in network order; zero when not configured. ipv6 lists
 * the valid addresses (link-local first), preferred ones flagged in
 * ipv6_preferred (bit n: ipv6[n]). Both start the network (noos_net_start)
 * if it is not running. noos_if_info: 0, -ENODEV (no such interface),
 * -EINVAL (info NULL).
 */
#define NOOS_IF_NAMESIZE 16
#define NOOS_IF_MAX_IPV6 3
struct noos_ifinfo {
	char name[NOOS_IF_NAMESIZE];
	unsigned index;
	unsigned mtu;
	uint8_t mac[6];
	uint8_t up;        /* administratively up */
	uint8_t link_up;   /* carrier */
	uint8_t ipv4_dhcp; /* the IPv4 address came from DHCP */
	uint8_t ipv6_count;
	uint8_t ipv6_preferred;
	struct noos_in_addr ipv4, netmask, gateway;
	struct noos_in6_addr ipv6[NOOS_IF_MAX_IPV6];
};
int noos_if_count(void);
int noos_if_info(unsigned i, struct noos_ifinfo *info);

/*
 * ---- readiness ----
 *
 * poll and an epoll-like event queue over sockets, with Linux's values and
 * semantics. A socket is readable (IN) with data or a datagram queued, at
 * end of stream, with a connection to accept, or with an error; writable
 * (OUT) when a send would queue something without blocking (TCP: connected
 * and at least a third of the send buffer free; UDP: always); RDHUP when
 * the peer shut down its sending side; HUP when both directions are shut
 * (or a connection was reset or never established); ERR with an error
 * pending (NOOS_SO_ERROR clears it). ERR and HUP are always reported,
 * whether asked for or not.
 */
#define NOOS_POLLIN     0x001
#define NOOS_POLLPRI    0x002
#define NOOS_POLLOUT    0x004
#define NOOS_POLLERR    0x008
#define NOOS_POLLHUP    0x010
#define NOOS_POLLNVAL   0x020 /* the descriptor is not open (or was closed while polled) */
#define NOOS_POLLRDNORM 0x040
#define NOOS_POLLWRNORM 0x100
#define NOOS_POLLRDHUP  0x2000
struct noos_pollfd {
	int fd;        /* negative: ignored (revents 0) */
	short events;  /* requested */
	short revents; /* returned */
};
/*
 * Wait until one of fds is ready or timeout_ns passes (0: look and return;
 * NOOS_FOREVER: no limit). An event queue in fds is readable while a wait
 * on it would report something. Returns how many have revents != 0 (0 on
 * timeout); -EINVAL (nfds over 4096, fds NULL with nfds > 0).
 */
int noos_poll(struct noos_pollfd *fds, unsigned nfds, uint64_t timeout_ns);

#define NOOS_EPOLLIN        0x001u
#define NOOS_EPOLLPRI       0x002u
#define NOOS_EPOLLOUT       0x004u
#define NOOS_EPOLLERR       0x008u
#define NOOS_EPOLLHUP       0x010u
#define NOOS_EPOLLRDNORM    0x040u
#define NOOS_EPOLLWRNORM    0x100u
#define NOOS_EPOLLRDHUP     0x2000u
#define NOOS_EPOLLEXCLUSIVE (1u << 28) /* accepted; every waiter is woken anyway */
#define NOOS_EPOLLONESHOT   (1u << 30) /* disarm after one report; EPOLL_CTL_MOD re-arms */
#define NOOS_EPOLLET        (1u << 31) /* edge-triggered */
#define NOOS_EPOLL_CTL_ADD  1
#define NOOS_EPOLL_CTL_DEL  2
#define NOOS_EPOLL_CTL_MOD  3
#define NOOS_EPOLL_CLOEXEC  0x80000 /* accepted and ignored */

typedef union noos_epoll_data {
	void *ptr;
	int fd;
	uint32_t u32;
	uint64_t u64;
} noos_epoll_data_t;
/* Linux's layout: packed (12 bytes) on x86_64, 16 bytes on aarch64. */
struct noos_epoll_event {
	uint32_t events;
	noos_epoll_data_t data;
}
#ifdef __x86_64__
__attribute__((packed))
#endif
;

/*
 * An event queue: its descriptor (closed with noos_close). -EINVAL (flags),
 * -EMFILE, -ENOMEM.
 *
 * Level-triggered (the default): every wait reports each registered socket
 * that is ready for what was asked, until it is not. Edge-triggered
 * (NOOS_EPOLLET): a socket is reported once each time its readiness rises
 * after the registration and after each report: new data or a new
 * connection arriving (even when earlier data is still unread, as Linux),
 * end of stream, send space freed, an error, a hang-up; and once at
 * registration if it is ready then. NOOS_EPOLLONESHOT: after one report
 * the socket stays registered but reports nothing until EPOLL_CTL_MOD.
 */
int noos_epoll_create(int flags);
/*
 * Register (ADD), change (MOD) or remove (DEL; ev may be NULL) fd in the
 * queue epfd. ev->data comes back with each report. -EEXIST (ADD twice),
 * -ENOENT (MOD/DEL of what is not registered), -EINVAL (bad op, epfd
 * itself, ev NULL for ADD/MOD, epfd not an event queue), -EPERM (fd is an
 * event queue: nesting is not supported), -ENOMEM.
 */
int noos_epoll_ctl(int epfd, int op, int fd, struct noos_epoll_event *ev);
/*
 * Wait up to timeout_ns (0: look and return; NOOS_FOREVER: no limit) for
 * events; fills up to maxevents entries and returns how many (0 on
 * timeout). Several threads may wait on one queue; each report goes to one
 * of them. Sockets ready beyond maxevents are reported by the next call,
 * round robin. -EINVAL (maxevents <= 0, events NULL, epfd not an event
 * queue), -EBADF (not open, or closed while waiting).
 */
int noos_epoll_wait(int epfd, struct noos_epoll_event *events, int maxevents, uint64_t timeout_ns);

/*
 * ---- event counters ----
 *
 * Linux's eventfd(2): a descriptor holding a 64-bit counter, for one
 * thread to wake another that waits in noos_poll or noos_epoll_wait (or in
 * noos_eventfd_read). A write adds to the counter; a read returns it and
 * sets it to 0, or with NOOS_EFD_SEMAPHORE returns 1 and subtracts 1. It
 * polls readable (IN) while the counter is above 0 and writable (OUT) while
 * 1 more would fit (the maximum is 2^64 - 2); each write is an edge for
 * NOOS_EPOLLET. A read of 0 and a write that would pass the maximum sleep
 * until that changes, or return -EAGAIN when non-blocking
 * (NOOS_EFD_NONBLOCK, noos_set_nonblock). Closed with noos_close; a thread
 * asleep on it then returns -EBADF.
 */
#define NOOS_EFD_SEMAPHORE 0x1
#define NOOS_EFD_NONBLOCK  0x800
#define NOOS_EFD_CLOEXEC   0x80000 /* accepted and ignored */
/* A counter starting at initval: its descriptor. -EINVAL (flags), -EMFILE, -ENOMEM. */
int noos_eventfd(unsigned initval, int flags);
/* Take the counter (or 1) into *value: 0, -EAGAIN, -EBADF, -EINVAL (value NULL, fd not a counter). */
int noos_eventfd_read(int fd, uint64_t *value);
/* Add value: 0, -EAGAIN, -EBADF, -EINVAL (value 2^64 - 1, fd not a counter). */
int noos_eventfd_write(int fd, uint64_t value);

/* Socket counters (for a /stats page): now open, and totals since boot. */
struct noos_socket_stats {
	uint64_t sockets;      /* sockets open now */
	uint64_t tcp_open;     /* TCP connections open now (connected or connecting) */
	uint64_t queues;       /* event queues open now */
	uint64_t tcp_accepted; /* connections accepted since boot */
	uint64_t tcp_connected;/* outgoing connections established since boot */
	uint64_t tcp_reset;    /* connections ended by a reset or an error */
	uint64_t udp_dropped;  /* datagrams dropped because a receive queue was full */
};
int noos_socket_stats(struct noos_socket_stats *st); /* -EINVAL if st is NULL */

#ifdef __cplusplus
}
#endif

#endif
