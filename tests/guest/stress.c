/*
 * stress: creating and joining thousands of threads leaks nothing.
 *
 * Batches of threads (all CPUs busy) are created and joined, `count` in all
 * (default 3000), each returning its argument + 1; then as many detached
 * threads. After a warm-up, noos_mem_stats before and after are compared:
 * no more live heap objects, reserved address space or resident stack
 * pages than before (a thread's struct or stack kept would show there
 * thousands of times), and pages held (free, heap, page tables) within
 * SLACK_PAGES, since allocators keep high-water marks (the heap's slabs,
 * vm.c's span array). One-sided, because "before" may still count a few
 * warm-up threads that had not finished exiting on a slow host. Prints
 * "stress: ok N" (N threads).
 */
#include "threads.h"

#define BATCH       64
#define SLACK_PAGES 64

static void *echo(void *arg)
{
	if (((uintptr_t)arg & 7) == 0)
		noos_thread_yield();
	return (void *)((uintptr_t)arg + 1);
}

static noos_sem_t detached_done;

static void *detached(void *arg)
{
	(void)arg;
	noos_sem_post(&detached_done);
	return NULL;
}

static void joined_batches(unsigned long count)
{
	noos_thread_t *t[BATCH];
	for (unsigned long done = 0; done < count;) {
		unsigned k = count - done < BATCH ? (unsigned)(count - done) : BATCH;
		for (unsigned i = 0; i < k; i++)
			t[i] = spawn(echo, (void *)(uintptr_t)(done + i), "stress", 0);
		for (unsigned i = 0; i < k; i++)
			if ((uintptr_t)join(t[i]) != done + i + 1)
				FAIL("thread %lu returned the wrong value\n", done + i);
		done += k;
	}
}

static void detached_batches(unsigned long count)
{
	struct noos_thread_opts o = {.name = "detached", .flags = NOOS_THREAD_DETACHED};
	noos_sem_init(&detached_done, 0);
	for (unsigned long i = 0; i < count; i++) {
		int err;
		while ((err = noos_thread_create(NULL, detached, NULL, &o)) == -ENOMEM)
			noos_sleep_ns(MS); /* the exited ones are freed by the idle CPUs */
		if (err)
			FAIL("detached create: %d\n", err);
		if (i % BATCH == BATCH - 1)
			for (int j = 0; j < BATCH; j++)
				noos_sem_wait(&detached_done);
	}
	for (unsigned long i = 0; i < count % BATCH; i++)
		noos_sem_wait(&detached_done);
}

static uint64_t pages_held(const struct noos_mem_stats *s)
{
	return s->free_pages + s->heap_pages + s->pagetable_pages;
}

/* after holds no more than before (see the top of the file). */
static bool no_leak(const struct noos_mem_stats *before, const struct noos_mem_stats *after)
{
	return after->heap_objects <= before->heap_objects &&
	       after->vm_reserved_bytes <= before->vm_reserved_bytes &&
	       after->vm_resident_pages <= before->vm_resident_pages &&
	       pages_held(after) + SLACK_PAGES >= pages_held(before);
}

static void print(const char *when, const struct noos_mem_stats *s)
{
	printf("%s: %lu free pages, heap %lu objects %lu bytes %lu pages, %lu pt pages, vm %lu KiB "
	       "reserved %lu pages resident\n",
	       when, (unsigned long)s->free_pages, (unsigned long)s->heap_objects,
	       (unsigned long)s->heap_bytes, (unsigned long)s->heap_pages,
	       (unsigned long)s->pagetable_pages, (unsigned long)(s->vm_reserved_bytes >> 10),
	       (unsigned long)s->vm_resident_pages);
}

int main(void)
{
	unsigned long count = arg_ul("count", 3000);
	struct noos_mem_stats before, after;
	joined_batches(BATCH); /* warm-up: the heap's slabs, page tables of the stack window */
	detached_batches(BATCH);
	noos_sleep_ns(50 * MS);
	joined_batches(1); /* thread_create frees the exited detached threads first */
	noos_mem_stats(&before);
	uint64_t start = noos_time_ns();
	joined_batches(count);
	detached_batches(count);
	printf("stress: %lu joined and %lu detached threads in %lu ms\n", count, count,
	       (unsigned long)((noos_time_ns() - start) / MS));
	/* The last detached threads may still be exiting: give them a moment. */
	uint64_t end = noos_time_ns() + 5000 * MS;
	do {
		noos_sleep_ns(10 * MS);
		joined_batches(1);
		noos_mem_stats(&after);
	} while (!no_leak(&before, &after) && noos_time_ns() < end);
	print("before", &before);
	print("after", &after);
	if (!no_leak(&before, &after))
		FAIL("memory use changed across %lu threads\n", 2 * count);
	return finish("stress", (unsigned)(2 * count));
}
