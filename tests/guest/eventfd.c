/*
 * eventfd: event counters (noos_eventfd, net/eventfd.c) against what
 * Linux's eventfd(2) does: reads take the counter (or 1 in semaphore
 * mode), writes add and stop short of 2^64 - 1, poll and epoll see IN
 * while above 0 and OUT while 1 more fits, each write is an edge; and the
 * reason they exist: a thread asleep in noos_epoll_wait (or in a read) on
 * another CPU is woken by a write, and a close wakes sleepers with -EBADF.
 * No device needed. Prints "eventfd: ok" and exits 0, or FAIL lines.
 */
#include "socktest.h"

#define COUNT_MAX  (UINT64_MAX - 1)
#define NOTHING_NS (100 * MS)

static uint64_t read_value(int fd, int want_err)
{
	uint64_t v = 0xdeadbeef;
	CHECK_EQ(noos_eventfd_read(fd, &v), want_err);
	return v;
}

static void test_counter(void)
{
	CHECK_EQ(noos_eventfd(0, 0x2), -EINVAL);
	int e = MUST(noos_eventfd(3, NOOS_EFD_NONBLOCK | NOOS_EFD_CLOEXEC));
	CHECK_EQ(read_value(e, 0), 3);
	read_value(e, -EAGAIN);
	MUST(noos_eventfd_write(e, 5));
	MUST(noos_eventfd_write(e, 7));
	CHECK_EQ(read_value(e, 0), 12);
	CHECK_EQ(noos_eventfd_write(e, UINT64_MAX), -EINVAL);
	MUST(noos_eventfd_write(e, COUNT_MAX)); /* the most it holds */
	CHECK_EQ(noos_eventfd_write(e, 1), -EAGAIN);
	MUST(noos_eventfd_write(e, 0)); /* adding nothing always fits */
	CHECK_EQ(read_value(e, 0), COUNT_MAX);
	CHECK_EQ(noos_eventfd_read(e, NULL), -EINVAL);
	MUST(noos_close(e));
	CHECK_EQ(noos_eventfd_write(e, 1), -EBADF);
	read_value(e, -EBADF);
}

static void test_semaphore(void)
{
	int e = MUST(noos_eventfd(2, NOOS_EFD_SEMAPHORE | NOOS_EFD_NONBLOCK));
	CHECK_EQ(read_value(e, 0), 1);
	CHECK_EQ(read_value(e, 0), 1);
	read_value(e, -EAGAIN);
	MUST(noos_set_nonblock(e, 0));
	MUST(noos_set_nonblock(e, 1));
	read_value(e, -EAGAIN);
	MUST(noos_close(e));
}

static void test_wrong_kinds(void)
{
	int s = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	int ep = MUST(noos_epoll_create(0));
	read_value(s, -EINVAL);
	CHECK_EQ(noos_eventfd_write(ep, 1), -EINVAL);
	CHECK_EQ(noos_set_nonblock(ep, 1), -ENOTSOCK);
	int e = MUST(noos_eventfd(0, 0));
	char buf[4];
	CHECK_EQ(noos_recv(e, buf, sizeof(buf), 0), -ENOTSOCK);
	MUST(noos_close(e));
	MUST(noos_close(ep));
	MUST(noos_close(s));
}

static void test_poll(void)
{
	int e = MUST(noos_eventfd(0, NOOS_EFD_NONBLOCK));
	short all = NOOS_POLLIN | NOOS_POLLOUT;
	CHECK_EQ(poll1(e, all, 0), NOOS_POLLOUT);
	MUST(noos_eventfd_write(e, 1));
	CHECK_EQ(poll1(e, all, 0), NOOS_POLLIN | NOOS_POLLOUT);
	MUST(noos_eventfd_write(e, COUNT_MAX - 1));
	CHECK_EQ(poll1(e, all, 0), NOOS_POLLIN); /* full */
	read_value(e, 0);
	CHECK_EQ(poll1(e, all, 0), NOOS_POLLOUT);
	MUST(noos_close(e));
}

static uint32_t ep_wait1(int ep, uint64_t timeout)
{
	struct noos_epoll_event ev = {0, {0}};
	int n = noos_epoll_wait(ep, &ev, 1, timeout);
	CHECK(n >= 0);
	return n > 0 ? ev.events : 0;
}

static void test_epoll(void)
{
	int e = MUST(noos_eventfd(0, NOOS_EFD_NONBLOCK));
	int lt = MUST(noos_epoll_create(0)), et = MUST(noos_epoll_create(0));
	struct noos_epoll_event ev = {NOOS_EPOLLIN, {.u64 = 1}};
	MUST(noos_epoll_ctl(lt, NOOS_EPOLL_CTL_ADD, e, &ev));
	ev.events = NOOS_EPOLLIN | NOOS_EPOLLET;
	MUST(noos_epoll_ctl(et, NOOS_EPOLL_CTL_ADD, e, &ev));
	CHECK_EQ(ep_wait1(lt, 0), 0);
	CHECK_EQ(ep_wait1(et, 0), 0);
	MUST(noos_eventfd_write(e, 1));
	CHECK_EQ(ep_wait1(lt, 0), NOOS_EPOLLIN);
	CHECK_EQ(ep_wait1(lt, 0), NOOS_EPOLLIN); /* level: while above 0 */
	CHECK_EQ(ep_wait1(et, 0), NOOS_EPOLLIN);
	CHECK_EQ(ep_wait1(et, NOTHING_NS), 0); /* edge: once */
	MUST(noos_eventfd_write(e, 1));        /* already readable: still an edge */
	CHECK_EQ(ep_wait1(et, 0), NOOS_EPOLLIN);
	read_value(e, 0);
	CHECK_EQ(ep_wait1(lt, 0), 0);
	CHECK_EQ(ep_wait1(et, 0), 0);
	MUST(noos_close(e)); /* leaves both queues */
	CHECK_EQ(noos_epoll_ctl(lt, NOOS_EPOLL_CTL_DEL, e, NULL), -EBADF);
	MUST(noos_close(lt));
	MUST(noos_close(et));
}

/* ---- across threads ---- */

struct sleeper {
	int fd, how; /* how: 0 epoll_wait, 1 read, 2 write of 1 */
	long result;
	uint64_t value, returned;
};

static void *sleep_in(void *arg)
{
	struct sleeper *s = arg;
	struct noos_epoll_event ev = {0, {0}};
	switch (s->how) {
	case 0:
		s->result = noos_epoll_wait(s->fd, &ev, 1, NOOS_FOREVER);
		s->value = ev.data.u64;
		break;
	case 1:
		s->result = noos_eventfd_read(s->fd, &s->value);
		break;
	default:
		s->result = noos_eventfd_write(s->fd, 1);
		break;
	}
	__atomic_store_n(&s->returned, noos_time_ns(), __ATOMIC_RELEASE);
	return NULL;
}

/* A thread (on the last CPU when there are several) asleep in s's call, for a while. */
static noos_thread_t *start_sleeper(struct sleeper *s)
{
	noos_thread_t *t;
	int last = noos_cpu_count() - 1;
	struct noos_thread_opts o = {.name = "sleeper", .affinity = 1ull << last};
	MUST(noos_thread_create(&t, sleep_in, s, &o));
	noos_sleep_ns(NOTHING_NS);
	CHECK_EQ(__atomic_load_n(&s->returned, __ATOMIC_ACQUIRE), 0); /* still asleep */
	return t;
}

static void test_wakeups(void)
{
	int e = MUST(noos_eventfd(0, 0));
	int ep = MUST(noos_epoll_create(0));
	struct noos_epoll_event ev = {NOOS_EPOLLIN, {.u64 = 42}};
	MUST(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, e, &ev));
	struct sleeper w = {ep, 0, 12345, 0, 0};
	noos_thread_t *t = start_sleeper(&w); /* the netpoll pattern: wait, be woken */
	MUST(noos_eventfd_write(e, 1));
	noos_thread_join(t, NULL);
	CHECK_EQ(w.result, 1);
	CHECK_EQ(w.value, 42);
	CHECK_EQ(read_value(e, 0), 1);

	struct sleeper r = {e, 1, 12345, 0, 0};
	t = start_sleeper(&r); /* a blocking read */
	MUST(noos_eventfd_write(e, 9));
	noos_thread_join(t, NULL);
	CHECK_EQ(r.result, 0);
	CHECK_EQ(r.value, 9);

	MUST(noos_eventfd_write(e, COUNT_MAX));
	struct sleeper wr = {e, 2, 12345, 0, 0};
	t = start_sleeper(&wr); /* a blocking write: full */
	CHECK_EQ(read_value(e, 0), COUNT_MAX);
	noos_thread_join(t, NULL);
	CHECK_EQ(wr.result, 0);
	CHECK_EQ(read_value(e, 0), 1);

	struct sleeper c = {e, 1, 12345, 0, 0};
	t = start_sleeper(&c); /* closed under a blocked read */
	MUST(noos_close(e));
	noos_thread_join(t, NULL);
	CHECK_EQ(c.result, -EBADF);
	MUST(noos_close(ep));
}

int main(void)
{
	test_counter();
	test_semaphore();
	test_wrong_kinds();
	test_poll();
	test_epoll();
	test_wakeups();
	return finish("eventfd");
}
