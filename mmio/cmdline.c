/*
 * virtio-mmio devices declared on the kernel command line, the convention of
 * Linux's virtio_mmio driver (drivers/virtio/virtio_mmio.c, "virtio_mmio.device")
 * that QEMU microvm and Firecracker-style VMMs follow:
 *
 *     virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 *
 * <size> is a number with an optional K, M, G, T, P or E multiplier (Linux's
 * memparse), <base> a number, both in C notation (0x hex, leading 0 octal,
 * else decimal); <irq> is a non-zero decimal interrupt number and <id> an
 * optional decimal device id. The word may appear several times, one device
 * each. As with Linux's parameter names, '-' and '_' are interchangeable in
 * the key.
 *
 * Input is untrusted and parsed strictly: no signs (except in <id>), no
 * blanks, no trailing characters, no overflow. A malformed entry is refused
 * with a log line and counted; it is never partly followed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "mmio.h"

static const char key[] = "virtio_mmio.device";

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * An unsigned number at *s in the given base, or in C notation for base 0
 * (as Linux's simple_strtoull). Advances *s past it; false if there are no
 * digits or the value does not fit in 64 bits.
 */
static bool parse_u64(const char **s, unsigned base, uint64_t *out)
{
	const char *p = *s;
	if (base == 0 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		base = 16;
		p += 2;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	const char *digits = p;
	uint64_t v = 0;
	for (unsigned d; (d = (unsigned)digit_value(*p)) < base; p++) {
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (p == digits)
		return false;
	*s = p;
	*out = v;
	return true;
}

/* memparse's multipliers: K, M, G, T, P, E (either case), each 1024 times the last. */
static bool apply_multiplier(const char **s, uint64_t *v)
{
	static const char units[] = "KMGTPE";
	char c = (char)(**s & ~0x20); /* upper case for letters; no letter maps to NUL */
	unsigned shift = 0;
	for (unsigned i = 0; units[i]; i++)
		if (c == units[i])
			shift = 10 * (i + 1);
	if (shift == 0)
		return true;
	if (*v > (UINT64_MAX >> shift))
		return false;
	*v <<= shift;
	(*s)++;
	return true;
}

/* <id>: a decimal int with an optional sign (Linux reads it with %d). */
static bool parse_id(const char **s, int32_t *out)
{
	bool neg = **s == '-';
	if (**s == '-' || **s == '+')
		(*s)++;
	uint64_t v;
	if (!parse_u64(s, 10, &v) || v > (neg ? 0x80000000u : 0x7fffffffu))
		return false;
	*out = neg ? (int32_t)(0 - v) : (int32_t)v;
	return true;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

/* After "<size>@<base>:": "<irq>[:<id>]" and nothing else. */
static int parse_irq_id(const char *p, struct mmio_desc *d, const char **why)
{
	uint64_t irq;
	if (!parse_u64(&p, 10, &irq) || irq > UINT32_MAX)
		return fail(why, "bad irq (a decimal number)");
	if (irq == 0)
		return fail(why, "irq 0 is not an interrupt");
	d->irq = (uint32_t)irq;
	if (*p == ':') {
		p++;
		if (!parse_id(&p, &d->id))
			return fail(why, "bad device id (a decimal number)");
	}
	if (*p)
		return fail(why, "unexpected characters after the entry");
	return 0;
}

int mmio_cmdline_entry(const char *value, struct mmio_desc *out, const char **why)
{
	struct mmio_desc d = {.id = -1, .source = "cmdline"};
	const char *p = value;
	if (!parse_u64(&p, 0, &d.size) || !apply_multiplier(&p, &d.size))
		return fail(why, "bad size (a number with an optional K/M/G suffix)");
	if (d.size == 0)
		return fail(why, "size 0");
	if (*p != '@')
		return fail(why, "expected '@' after the size");
	p++;
	if (!parse_u64(&p, 0, &d.base))
		return fail(why, "bad base address");
	if (d.base + d.size < d.base)
		return fail(why, "window wraps around the address space");
	if (*p != ':')
		return fail(why, "expected ':' after the base address");
	int err = parse_irq_id(p + 1, &d, why);
	if (err)
		return err;
	*out = d;
	return 0;
}

const char *mmio_cmdline_value(const char *word)
{
	size_t i = 0;
	for (; key[i]; i++) {
		char c = word[i];
		if (c != key[i] && !(key[i] == '_' && c == '-'))
			return NULL;
	}
	return word[i] == '=' ? word + i + 1 : NULL;
}

void mmio_cmdline_scan(char *const *words, int count, struct mmio_list *l)
{
	for (int i = 0; i < count; i++) {
		const char *value = mmio_cmdline_value(words[i]);
		if (!value)
			continue;
		struct mmio_desc d;
		const char *why;
		if (mmio_cmdline_entry(value, &d, &why) < 0 || mmio_list_add(l, &d, &why) < 0)
			mmio_list_reject(l, "cmdline", words[i], why);
	}
}
