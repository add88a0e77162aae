/*
 * console_input: an interactive image reads lines from the serial console
 * (noos_console_read) and answers each; "quit" ends it. The runner feeds the
 * input through QEMU's serial port (guest.py --stdin).
 */
#include <stdio.h>
#include <string.h>

#include "noos.h"

/* One line without its newline; -1 at an over-long line. */
static int read_line(char *line, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		if (noos_console_read(&c, 1) != 1)
			return -1;
		if (c == '\r')
			continue;
		if (c == '\n')
			break;
		if (n + 1 >= size)
			return -1;
		line[n++] = c;
	}
	line[n] = '\0';
	return (int)n;
}

int main(void)
{
	char line[128];
	unsigned lines = 0;
	printf("console_input: ready\n");
	while (read_line(line, sizeof(line)) >= 0) {
		if (strcmp(line, "quit") == 0) {
			printf("console_input: %u lines, bye\n", lines);
			return 0;
		}
		lines++;
		printf("console_input: got <%s> (%zu bytes)\n", line, strlen(line));
	}
	printf("FAIL: line too long\n");
	return 1;
}
