/* hello: the smallest noos application. Prints a greeting and its arguments, returns 3. */
#include <stdio.h>

#include "noos.h"

int main(int argc, char **argv)
{
	printf("Hello from noos!\n");
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	const char *who = noos_getenv("greet");
	if (who)
		printf("greet = %s\n", who);
	return 3;
}
