/*
 * Force-included when host tests compile rt/ sources natively: rt/ defines
 * libc's own names (printf, strtoul, memcpy...), so on the host they get an
 * rt_ prefix and the test compares them against the host libc as an oracle.
 */
#define printf    rt_printf
#define vprintf   rt_vprintf
#define snprintf  rt_snprintf
#define vsnprintf rt_vsnprintf
#define puts      rt_puts
#define putchar   rt_putchar
#define strtoul   rt_strtoul
#define strtol    rt_strtol
#define atoi      rt_atoi
#define memcpy    rt_memcpy
#define memmove   rt_memmove
#define memset    rt_memset
#define memcmp    rt_memcmp
#define memchr    rt_memchr
#define strlen    rt_strlen
#define strnlen   rt_strnlen
#define strcmp    rt_strcmp
#define strncmp   rt_strncmp
#define strchr    rt_strchr
#define strrchr   rt_strrchr
#define strstr    rt_strstr
#define strncpy   rt_strncpy
#define strlcpy   rt_strlcpy
