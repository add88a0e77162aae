/*
 * net/ sockets and readiness (noos.h "sockets", "readiness"): the internal
 * header of the socket layer over lwIP's raw API, grouped by the file that
 * defines each part. (net.h is the netif's; this layer only needs lwIP's
 * core lock and the netifs it configured.)
 *
 * One lock guards everything here: lwIP's core lock (LOCK_TCPIP_CORE), "the
 * stack lock" below. lwIP runs every raw-API callback with it held (the
 * tcpip thread and the netifs' service threads take it), so socket state,
 * event queues and lwIP's control blocks change together, and a readiness
 * change seen in a callback reaches every waiter without a second lock to
 * order. A thread that blocks reads its object's generation under the lock,
 * lets the lock go and sleeps on that word (noos_futex_wait), so a change
 * made after the lock was released wakes it (the futex compares the word).
 *
 * Lifetimes: descriptors (fd.c) hold a reference on their object, and so
 * does every call in progress (fd_get .. nfile_put); noos_close takes the
 * descriptor out of the table, detaches the object from lwIP and from every
 * event queue under the stack lock, marks it closed and wakes its sleepers,
 * who return -EBADF and drop their references; the last one frees it.
 */
#ifndef NOOS_NET_SOCK_H
#define NOOS_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"

#include "noos.h"

#define net_lock()   LOCK_TCPIP_CORE()
#define net_unlock() UNLOCK_TCPIP_CORE()

/* A circular doubly-linked list through its head; a node off any list points at itself. */
struct dlist {
	struct dlist *next, *prev;
};
static inline void dlist_init(struct dlist *n)
{
	n->next = n->prev = n;
}
static inline bool dlist_empty(const struct dlist *h)
{
	return h->next == h;
}
static inline void dlist_add_tail(struct dlist *h, struct dlist *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void dlist_del(struct dlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	dlist_init(n);
}
#define dlist_entry(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* Readiness bits are Linux's (NOOS_EPOLL*); this one is ours, never reported. */
#define EV_CLOSED (1u << 27) /* a watcher's notify: the object is being closed */
#define EV_ALL    0xffffffu  /* a state change: every watcher looks again */
#define EV_IN     (NOOS_EPOLLIN | NOOS_EPOLLRDNORM)
#define EV_OUT    (NOOS_EPOLLOUT | NOOS_EPOLLWRNORM)

/* ---- fd.c: the descriptor table and object lifetimes ---- */

#define NET_MAX_FDS 1024

enum nfile_kind { NF_SOCK = 1, NF_EPOLL = 2, NF_EVENT = 3 };

/* What sockets, event queues and event counters have in common (first member of each). */
struct nfile {
	uint32_t refs;         /* atomic: the table's, and one per call in progress */
	uint8_t kind;          /* enum nfile_kind */
	bool closed;           /* stack lock: noos_close has run */
	uint32_t gen;          /* futex word: bumped (stack lock held) on every change */
	uint32_t sleepers;     /* stack lock: threads asleep on gen */
	struct dlist watchers; /* stack lock: struct watch (event queue entries, pollers) */
};

/* Something told about an object's readiness changes (stack lock held). */
struct watch {
	struct dlist link; /* in nfile.watchers */
	/* key: the events that may have risen (EV_ALL for any; EV_CLOSED on close) */
	void (*notify)(struct watch *w, struct nfile *f, uint32_t key);
};

void nfile_init(struct nfile *f, enum nfile_kind kind);
int fd_install(struct nfile *f); /* the lowest free descriptor takes f's first reference; -EMFILE */
struct nfile *fd_get(int fd);    /* referenced, or NULL */
/* fd's object if it is of kind, referenced; else NULL with *err -EBADF or wrong_kind. */
struct nfile *fd_get_kind(int fd, enum nfile_kind kind, int wrong_kind, int *err);
/* The same, open, with the stack lock taken (NULL: *err, -EBADF if closed meanwhile); nfile_end
 * undoes. */
struct nfile *nfile_begin(int fd, enum nfile_kind kind, int wrong_kind, int *err);
void nfile_end(struct nfile *f);
struct nfile *fd_remove(int fd);        /* out of the table; the caller owns its reference; NULL */
void nfile_put(struct nfile *f);        /* drop a reference; the last frees the object */
uint32_t nfile_events(struct nfile *f); /* stack lock: its readiness now (NOOS_EPOLL*) */
/* Stack lock: f changed; wake its sleepers and tell its watchers (key as struct watch). */
void nfile_wake(struct nfile *f, uint32_t key);
/*
 * Stack lock held: sleep until f changes (nfile_wake), or until deadline
 * (noos_time_ns value; NOOS_FOREVER none), with the lock released meanwhile.
 * 0 after a change (callers look again), -ETIMEDOUT, -EBADF (f was closed).
 */
int nfile_sleep(struct nfile *f, uint64_t deadline);
uint64_t deadline_after(uint64_t timeout_ns); /* now + timeout_ns, saturating at NOOS_FOREVER */

/* ---- socket.c: socket objects, addresses and the calls common to TCP and UDP ---- */

enum sock_state {
	SS_NEW,        /* TCP: not connected (maybe bound); UDP: no default peer */
	SS_LISTEN,     /* TCP */
	SS_CONNECTING, /* TCP: SYN sent */
	SS_CONNECTED,  /* TCP: established (or closing); UDP: has a default peer */
	SS_CLOSED,     /* TCP: the connection is over (reset, failed, or both FINs) */
};
#define SHUT_RCV  1 /* Linux's RCV_SHUTDOWN: our SHUT_RD or the peer's FIN */
#define SHUT_SEND 2 /* Linux's SEND_SHUTDOWN: our SHUT_WR (or a reset) */

struct dgram; /* socket_udp.c */

struct sock {
	struct nfile f; /* first */
	uint8_t family; /* NOOS_AF_INET / NOOS_AF_INET6 */
	uint8_t type;   /* NOOS_SOCK_STREAM / NOOS_SOCK_DGRAM */
	/* the rest: stack lock */
	uint8_t state; /* enum sock_state */
	uint8_t shut;  /* SHUT_RCV | SHUT_SEND */
	bool nonblock;
	bool v6only;
	bool bound;     /* by bind, connect or listen */
	bool fin;       /* TCP: the peer's FIN arrived */
	bool nospace;   /* TCP: a send found the buffer full: the next space is an EPOLLOUT edge */
	bool conn_wait; /* TCP: a non-blocking connect is under way: the next connect reports it */
	bool counted;   /* TCP: in sock_stats.tcp_open */
	bool reuseaddr;
	bool broadcast;
	bool nodelay; /* TCP options, kept here for listeners' children and new pcbs */
	bool keepalive;
	uint32_t keepidle, keepintvl, keepcnt; /* seconds, seconds, probes */
	int err;                               /* pending error (positive errno), NOOS_SO_ERROR */
	union {
		struct tcp_pcb *tcp; /* NULL once lwIP freed it or we let it go */
		struct udp_pcb *udp;
	} pcb;
	/* received and unread: TCP a pbuf chain (rx_off bytes of it consumed), UDP datagrams */
	struct pbuf *rx, *rx_last; /* TCP: single pbufs linked by next (tot_len is not used) */
	uint32_t rx_off;
	size_t rx_bytes;
	struct dgram *dq, **dq_tail;
	/* listening: connections accepted by lwIP, not yet by the application */
	struct sock *aq, **aq_tail, *aq_next;
	unsigned aq_len, backlog;
	/* the last addresses lwIP had, for getsockname/getpeername after the pcb is gone */
	ip_addr_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint64_t rcvtimeo, sndtimeo; /* ns, 0: none */
	uint32_t sndbuf, rcvbuf;     /* bytes, as NOOS_SO_SNDBUF/RCVBUF report them */
};

struct net_sock_stats {
	uint64_t sockets, tcp_open, queues;
	uint64_t tcp_accepted, tcp_connected, tcp_reset, udp_dropped;
};
extern struct net_sock_stats sock_stats; /* stack lock */

/* Stack lock held by these, unless said. */
struct sock *sock_alloc(int family, int type); /* not in the table; no pcb yet */
void sock_free(struct sock *s);                /* the last reference went */
void sock_close(struct sock *s);
uint32_t sock_events(struct sock *s);
/* fd -> referenced socket, or NULL with *err -EBADF / -ENOTSOCK. No lock needed. */
struct sock *sock_get(int fd, int *err);
static inline void sock_put(struct sock *s)
{
	nfile_put(&s->f);
}
/* fd -> its open socket, referenced, with the stack lock taken (NULL: *err); sock_end undoes. */
struct sock *sock_begin(int fd, int *err);
void sock_end(struct sock *s);
/* Take the pending error (negative errno), or 0. */
int sock_take_err(struct sock *s);
/*
 * A sockaddr for socket s -> lwIP address and port (host order). IPv4-mapped
 * IPv6 addresses become IPv4 ones unless v6only; :: becomes "any of both"
 * unless v6only. -EINVAL (NULL, short), -EAFNOSUPPORT (family).
 */
int sock_addr_in(const struct sock *s, const struct noos_sockaddr *sa, noos_socklen_t len,
                 ip_addr_t *ip, uint16_t *port);
/* lwIP address and port -> sockaddr of s's family (truncated to *len, which gets the full size). */
void sock_addr_out(const struct sock *s, const ip_addr_t *ip, uint16_t port,
                   struct noos_sockaddr *sa, noos_socklen_t *len);
/* The lwIP error of a raw-API call -> negative errno. */
int sock_err_from_lwip(err_t err);
/* ip is an address of one of our interfaces (bind's -EADDRNOTAVAIL otherwise). */
bool sock_addr_is_local(const ip_addr_t *ip);
/* The any address bind uses for s when none is given (dual stack unless v6only). */
void sock_addr_any(const struct sock *s, ip_addr_t *ip);

/* ---- socket_tcp.c (stack lock held) ---- */
int tcp_sock_open(struct sock *s);
int tcp_sock_bind(struct sock *s, const ip_addr_t *ip, uint16_t port);
int tcp_sock_listen(struct sock *s, int backlog);
/* Take a waiting connection into the table (nonblock as given): its fd; -EAGAIN none waiting. */
int tcp_sock_accept(struct sock *s, bool nonblock, struct sock **child);
int tcp_sock_connect(struct sock *s, const ip_addr_t *ip, uint16_t port);
long tcp_sock_send(struct sock *s, const void *buf, size_t len, bool more); /* -EAGAIN: no room */
long tcp_sock_recv(struct sock *s, void *buf, size_t len, bool peek);       /* -EAGAIN: nothing */
int tcp_sock_shutdown(struct sock *s, int how);
void tcp_sock_close(struct sock *s);
uint32_t tcp_sock_events(struct sock *s);
void tcp_sock_addrs(struct sock *s);      /* refresh s's address copies from the pcb */
void tcp_sock_apply_opts(struct sock *s); /* nodelay, keepalive, reuseaddr onto the pcb */

/* ---- socket_udp.c (stack lock held) ---- */
int udp_sock_open(struct sock *s);
int udp_sock_bind(struct sock *s, const ip_addr_t *ip, uint16_t port);
int udp_sock_connect(struct sock *s, const ip_addr_t *ip, uint16_t port); /* ip NULL: dissolve */
long udp_sock_sendto(struct sock *s, const void *buf, size_t len, const ip_addr_t *ip,
                     uint16_t port);
/* One datagram: bytes copied (or its full length with trunc); from / port filled when not NULL. */
long udp_sock_recv(struct sock *s, void *buf, size_t len, bool peek, bool trunc, ip_addr_t *from,
                   uint16_t *port);
int udp_sock_shutdown(struct sock *s, int how);
void udp_sock_close(struct sock *s);
uint32_t udp_sock_events(struct sock *s);
void udp_sock_addrs(struct sock *s);

/* ---- epoll.c ---- */
struct epoll;
void epoll_close(struct epoll *ep); /* stack lock */
void epoll_free(struct epoll *ep);
uint32_t epoll_events(struct epoll *ep); /* stack lock: IN when a wait would report something */

/* ---- eventfd.c ---- */
struct eventfd;
void eventfd_free(struct eventfd *e);
uint32_t eventfd_events(struct eventfd *e); /* stack lock */
void eventfd_set_nonblock(struct eventfd *e, bool on);

/* ---- resolve.c: address text, DNS queries (for addrinfo.c) ---- */
/* "a.b.c.d" or an IPv6 address (with an optional %scope) -> lwIP address; false if not numeric. */
bool resolve_numeric(const char *s, ip_addr_t *ip);
/* One DNS query (LWIP_DNS_ADDRTYPE_IPV4/IPV6), sleeping until lwIP answers: 0, -ENOENT, -EAGAIN (no
 * server). */
int resolve_dns(const char *name, uint8_t type, ip_addr_t *ip);

#endif
