/*
 * The boot command line (QEMU -append, PVH/multiboot2 cmdline, DTB
 * /chosen/bootargs) split into the application's argv and a key=value
 * environment.
 *
 * Words are separated by blanks; double quotes group a word ("a b") and are
 * removed. Before a lone "--", a word of the form key=value goes to the
 * environment (this is where kernel parameters such as ip= and
 * virtio_mmio.device= live); any other word is an argument. After "--",
 * every word is an argument. Input is untrusted: anything that does not fit
 * is dropped and flagged, never overrun.
 */
#include <string.h>

#include "rt.h"

struct cursor {
	const char *src;
	char *dst, *dst_end;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies the next word into storage; returns it, or NULL at the end of input or of storage. */
static char *next_word(struct cursor *c, bool *out_of_space)
{
	while (is_blank(*c->src))
		c->src++;
	if (!*c->src)
		return NULL;
	char *word = c->dst;
	bool quoted = false;
	for (; *c->src && (quoted || !is_blank(*c->src)); c->src++) {
		if (*c->src == '"') {
			quoted = !quoted;
			continue;
		}
		if (c->dst + 1 >= c->dst_end) {
			*out_of_space = true;
			return NULL;
		}
		*c->dst++ = *c->src;
	}
	*c->dst++ = '\0';
	return word;
}

static bool is_env_word(const char *w)
{
	const char *eq = strchr(w, '=');
	return eq && eq != w;
}

static void add(char **list, int *count, int max, char *word, bool *truncated)
{
	if (*count < max)
		list[(*count)++] = word;
	else
		*truncated = true;
}

void cmdline_parse(const char *src, const char *program, struct cmdline *out)
{
	memset(out, 0, sizeof(*out));
	struct cursor c = {src ? src : "", out->storage, out->storage + sizeof(out->storage)};
	out->argv[out->argc++] = (char *)program;
	bool after_dashes = false;
	char *w;
	while ((w = next_word(&c, &out->truncated)) != NULL) {
		if (!after_dashes && strcmp(w, "--") == 0)
			after_dashes = true;
		else if (!after_dashes && is_env_word(w))
			add(out->envp, &out->envc, CMDLINE_MAX_ENV, w, &out->truncated);
		else
			add(out->argv, &out->argc, CMDLINE_MAX_ARGS, w, &out->truncated);
	}
	out->argv[out->argc] = NULL;
	out->envp[out->envc] = NULL;
}

/* The value of the last key=value word with this key, or NULL. */
const char *cmdline_lookup(const struct cmdline *c, const char *key)
{
	size_t n = strlen(key);
	for (int i = c->envc - 1; i >= 0; i--)
		if (strncmp(c->envp[i], key, n) == 0 && c->envp[i][n] == '=')
			return c->envp[i] + n + 1;
	return NULL;
}
