/*
 * tls: each thread's TLS base (noos_tls_set: the FS base on x86_64,
 * TPIDR_EL0 on aarch64) stays its own while threads block, yield, get
 * preempted and migrate between CPUs.
 *
 * Four threads per CPU each set their base to their own block, then hop
 * over the CPUs (changing their own affinity), sleep, yield and spin
 * through time slices, checking after every step that the register holds
 * their value and that the block it points to is theirs. A new thread
 * starts with base 0. Prints "tls: ok N" (N CPUs).
 */
#include "threads.h"

struct block {
	struct block *self; /* what %fs:0 or [TPIDR_EL0] holds, as an ABI's TCB would */
	unsigned owner;
};

static unsigned ncpu;
static int checks;

static void check_mine(const struct block *b, const char *after)
{
	const struct block *now = noos_tls_get();
	if (now != b || now->self != b || now->owner != b->owner)
		FAIL("thread %u: TLS base %p after %s, want %p\n", b->owner, (const void *)now,
		     after, (const void *)b);
	__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
}

static void *hopper(void *arg)
{
	struct block b = {.owner = (unsigned)(uintptr_t)arg};
	b.self = &b;
	if (noos_tls_get() != NULL)
		FAIL("thread %u started with TLS base %p\n", b.owner, noos_tls_get());
	noos_tls_set(&b);
	for (unsigned step = 0; step < 3 * ncpu + 3; step++) {
		noos_thread_set_affinity(NULL, cpu_bit((b.owner + step) % ncpu));
		check_mine(&b, "a migration");
		noos_sleep_ns(MS);
		check_mine(&b, "a sleep");
		noos_thread_yield();
		check_mine(&b, "a yield");
		spin_for(12 * MS); /* longer than a slice: preempted by the others */
		check_mine(&b, "preemption");
	}
	noos_thread_set_affinity(NULL, ~0ull);
	return NULL;
}

int main(void)
{
	ncpu = noos_cpu_count();
	struct block mine = {.owner = 1000};
	mine.self = &mine;
	noos_tls_set(&mine);
	noos_thread_t *t[256];
	unsigned threads = 4 * ncpu;
	for (unsigned i = 0; i < threads; i++)
		t[i] = spawn(hopper, (void *)(uintptr_t)i, "hopper", 0);
	for (unsigned i = 0; i < threads; i++)
		join(t[i]);
	check_mine(&mine, "joining");
	printf("tls: %d checks in %u threads\n", checks, threads);
	return finish("tls", ncpu);
}
