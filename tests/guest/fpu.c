/*
 * fpu: FP/SIMD registers survive preemption and migration.
 *
 * Three threads per CPU, pinned there, run the same floating-point
 * recurrence from different seeds, keeping eight values live in FP
 * registers across long busy loops that time slices interrupt. Each result
 * must equal the one main computed alone beforehand, bit for bit. A thread
 * also records whether a sibling on its CPU made progress while it was in
 * the middle of its loop: proof that it was preempted mid-computation.
 * One more thread hops between CPUs while computing. Prints "fpu: ok N".
 */
#include "threads.h"

#define STEPS 400000

static uint64_t progress[64][3];
static int interleaved;

struct job {
	unsigned cpu, slot;
	double seed;
	double result;
	bool hop;
};

/* Eight dependent chains; volatile-free so the compiler keeps them in registers. */
static double compute(double seed, unsigned steps, uint64_t *count, const uint64_t *sibling,
                      unsigned ncpu, bool hop)
{
	double a = seed, b = seed * 0.5, c = seed + 1.0, d = seed - 1.0;
	double e = seed * 1.5, f = seed * 0.25, g = seed + 2.0, h = seed - 2.0;
	uint64_t sib_start = sibling ? __atomic_load_n(sibling, __ATOMIC_RELAXED) : 0;
	for (unsigned i = 0; i < steps; i++) {
		a = a * 0.999999 + b * 1e-6;
		b = b * 0.999998 + c * 2e-6;
		c = c * 0.999997 + d * 3e-6;
		d = d * 0.999996 + e * 4e-6;
		e = e * 0.999995 + f * 5e-6;
		f = f * 0.999994 + g * 6e-6;
		g = g * 0.999993 + h * 7e-6;
		h = h * 0.999992 + a * 8e-6;
		if (count && (i & 1023) == 0) {
			__atomic_store_n(count, i + 1, __ATOMIC_RELAXED);
			if (sibling && __atomic_load_n(sibling, __ATOMIC_RELAXED) != sib_start)
				__atomic_store_n(&interleaved, 1, __ATOMIC_RELAXED);
		}
		if (hop && (i & 65535) == 0)
			noos_thread_set_affinity(NULL, cpu_bit((i >> 16) % ncpu));
	}
	return a + b + c + d + e + f + g + h;
}

static unsigned ncpu;

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t *mine = j->hop ? NULL : &progress[j->cpu][j->slot];
	const uint64_t *sib = j->hop ? NULL : &progress[j->cpu][(j->slot + 1) % 3];
	j->result = compute(j->seed, STEPS, mine, sib, ncpu, j->hop);
	return NULL;
}

static bool same_bits(double x, double y)
{
	uint64_t a, b;
	memcpy(&a, &x, sizeof(a));
	memcpy(&b, &y, sizeof(b));
	return a == b;
}

int main(void)
{
	ncpu = noos_cpu_count();
	static struct job jobs[64 * 3 + 1];
	unsigned n = 3 * ncpu + 1;
	for (unsigned i = 0; i < n; i++)
		jobs[i] = (struct job){
		    .cpu = i / 3 % ncpu, .slot = i % 3, .seed = 1.0 + i * 0.125, .hop = i == n - 1};
	double expect[64 * 3 + 1];
	for (unsigned i = 0; i < n; i++)
		expect[i] = compute(jobs[i].seed, STEPS, NULL, NULL, ncpu, false);
	noos_thread_t *t[64 * 3 + 1];
	uint64_t start = noos_time_ns();
	for (unsigned i = 0; i < n; i++)
		t[i] = spawn(worker, &jobs[i], "fpu", jobs[i].hop ? 0 : cpu_bit(jobs[i].cpu));
	for (unsigned i = 0; i < n; i++)
		join(t[i]);
	for (unsigned i = 0; i < n; i++)
		if (!same_bits(jobs[i].result, expect[i]))
			FAIL("thread %u (cpu %u): the result differs from the one computed alone\n",
			     i, jobs[i].cpu);
	printf("fpu: %u threads in %lu ms, preempted mid-computation: %s\n", n,
	       (unsigned long)((noos_time_ns() - start) / MS), interleaved ? "yes" : "no");
	if (!interleaved)
		FAIL("no thread was ever preempted in the middle of its loop\n");
	return finish("fpu", ncpu);
}
