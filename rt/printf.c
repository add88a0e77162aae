/*
 * Formatted output: the usual C formats (d i u x X o p s c %, with flags
 * "-0+ #", width, precision, '*', and the length modifiers hh h l ll z t j).
 * One formatter feeds both vsnprintf (into a buffer) and printf (to the console).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"

struct sink {
	void (*emit)(struct sink *s, const char *p, size_t n);
	char *buf;
	size_t size, used; /* used counts every byte produced, even those not stored */
};

struct spec {
	bool left, zero, plus, space, alt;
	int width, prec; /* prec < 0: none given */
	char conv;
};

static void put(struct sink *s, const char *p, size_t n)
{
	s->emit(s, p, n);
	s->used += n;
}

static void pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		put(s, &c, 1);
}

static void put_padded(struct sink *s, const struct spec *sp, const char *prefix, const char *body,
                       int len)
{
	int plen = (int)strlen(prefix), zeros = 0;
	if (sp->prec >= 0 && sp->conv != 's' && sp->conv != 'c' && len < sp->prec)
		zeros = sp->prec - len;
	int total = plen + zeros + len;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->conv != 's' && sp->conv != 'c') {
		zeros += sp->width > total ? sp->width - total : 0;
		total = plen + zeros + len;
	}
	if (!sp->left)
		pad(s, ' ', sp->width - total);
	put(s, prefix, (size_t)plen);
	pad(s, '0', zeros);
	put(s, body, (size_t)len);
	if (sp->left)
		pad(s, ' ', sp->width - total);
}

static int utoa(char *end, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return (int)(end - p);
}

static void format_int(struct sink *s, struct spec *sp, uint64_t v, bool negative)
{
	char digits[24];
	unsigned base = (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p') ? 16
	                : sp->conv == 'o'                                       ? 8
	                                                                        : 10;
	int len = utoa(digits + sizeof(digits), v, base, sp->conv == 'X');
	const char *body = digits + sizeof(digits) - len;
	if (sp->prec == 0 && v == 0)
		len = 0; /* C: zero with precision 0 prints no digits */
	bool is_signed = sp->conv == 'd' || sp->conv == 'i'; /* '+' and ' ' apply only to these */
	const char *prefix = negative                 ? "-"
	                     : is_signed && sp->plus  ? "+"
	                     : is_signed && sp->space ? " "
	                                              : "";
	if (sp->alt && v != 0 && base == 16)
		prefix = sp->conv == 'X' ? "0X" : "0x";
	else if (sp->alt && base == 8 && sp->prec <= len && (len == 0 || body[0] != '0'))
		prefix = "0";
	put_padded(s, sp, prefix, body, len);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){.prec = -1};
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	return f;
}

/* Length modifier: 0 int, 1 long (and z, t, j), 2 long long, -1 short, -2 char. */
static const char *parse_length(const char *f, int *len)
{
	*len = 0;
	if (f[0] == 'h') {
		*len = f[1] == 'h' ? -2 : -1;
		return f - *len;
	}
	if (f[0] == 'l') {
		*len = f[1] == 'l' ? 2 : 1;
		return f + *len;
	}
	if (f[0] == 'z' || f[0] == 't' || f[0] == 'j') {
		*len = 1;
		return f + 1;
	}
	return f;
}

static void format_arg(struct sink *s, struct spec *sp, int len, va_list *ap)
{
	int64_t sv;
	uint64_t uv;
	switch (sp->conv) {
	case 'd':
	case 'i':
		sv = len >= 1 ? va_arg(*ap, long) : va_arg(*ap, int);
		if (len == -1)
			sv = (short)sv;
		else if (len == -2)
			sv = (signed char)sv;
		format_int(s, sp, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0);
		return;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		uv = len >= 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
		if (len == -1)
			uv = (unsigned short)uv;
		else if (len == -2)
			uv = (unsigned char)uv;
		format_int(s, sp, uv, false);
		return;
	case 'p':
		sp->alt = true;
		format_int(s, sp, (uintptr_t)va_arg(*ap, void *), false);
		return;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		put_padded(s, sp, "", &c, 1);
		return;
	}
	case 's': {
		const char *str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		size_t n = sp->prec >= 0 ? strnlen(str, (size_t)sp->prec) : strlen(str);
		put_padded(s, sp, "", str, (int)n);
		return;
	}
	default: /* unknown conversion: print it literally, so mistakes are visible */
		put(s, "%", 1);
		put(s, &sp->conv, 1);
	}
}

static int format(struct sink *s, const char *f, va_list ap)
{
	va_list args;
	va_copy(args, ap);
	while (*f) {
		const char *lit = f;
		while (*f && *f != '%')
			f++;
		if (f > lit)
			put(s, lit, (size_t)(f - lit));
		if (!*f)
			break;
		if (f[1] == '%') {
			put(s, "%", 1);
			f += 2;
			continue;
		}
		struct spec sp;
		int len;
		f = parse_length(parse_spec(f + 1, &sp, &args), &len);
		if (!*f)
			break;
		sp.conv = *f++;
		format_arg(s, &sp, len, &args);
	}
	va_end(args);
	return (int)s->used;
}

static void emit_buffer(struct sink *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->used + i + 1 < s->size)
			s->buf[s->used + i] = p[i];
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct sink s = {.emit = emit_buffer, .buf = buf, .size = size};
	int n = format(&s, fmt, ap);
	if (size)
		buf[s.used < size ? s.used : size - 1] = '\0';
	return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Console output goes through a small stack buffer so a line reaches the UART in one write. */
struct console_sink {
	struct sink s;
	char chunk[128];
	size_t fill;
};

static void emit_console(struct sink *s, const char *p, size_t n)
{
	struct console_sink *cs = (struct console_sink *)s;
	while (n) {
		size_t take = sizeof(cs->chunk) - cs->fill;
		if (take > n)
			take = n;
		memcpy(cs->chunk + cs->fill, p, take);
		cs->fill += take;
		p += take;
		n -= take;
		if (cs->fill == sizeof(cs->chunk)) {
			console_write(cs->chunk, cs->fill);
			cs->fill = 0;
		}
	}
}

int vprintf(const char *restrict fmt, va_list ap)
{
	struct console_sink cs = {.s = {.emit = emit_console}};
	int n = format(&cs.s, fmt, ap);
	console_write(cs.chunk, cs.fill);
	return n;
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	console_write(s, strlen(s));
	console_write("\n", 1);
	return 1;
}

int putchar(int c)
{
	char ch = (char)c;
	console_write(&ch, 1);
	return (unsigned char)c;
}
