/*
 * hello: the first noos application. It greets, echoes its command line
 * (arguments and key=value environment), describes the VM it booted on —
 * how long boot took, CPUs, memory and, when QEMU gave it a network card,
 * the interfaces with their addresses — and returns 3, which becomes the
 * VM's exit status.
 *
 *   ./noos run hello --append "one greet=you"
 *   ./noos run hello --smp 2 --net user
 */
#include <stdio.h>

#include "noos.h"

#define DHCP_WAIT_NS (3 * 1000000000ull) /* QEMU's user network answers in milliseconds */

static void print_boot_time(uint64_t main_ns)
{
	printf("boot: main() entered %llu.%03llu ms after boot (monotonic clock)\n",
	       (unsigned long long)(main_ns / 1000000),
	       (unsigned long long)(main_ns / 1000 % 1000));
}

static void print_memory(void)
{
	struct noos_mem_stats m;
	if (noos_mem_stats(&m) < 0)
		return;
	printf("memory: %llu KiB RAM, %llu KiB free, noos itself %llu KiB, heap %llu bytes in %llu "
	       "blocks\n",
	       (unsigned long long)m.ram_bytes / 1024,
	       (unsigned long long)m.free_pages * NOOS_PAGE_SIZE / 1024,
	       (unsigned long long)m.noos_bytes / 1024, (unsigned long long)m.heap_bytes,
	       (unsigned long long)m.heap_objects);
}

static void print_ipv4(const struct noos_ifinfo *ifi)
{
	char addr[NOOS_INET_ADDRSTRLEN], gw[NOOS_INET_ADDRSTRLEN];
	if (!ifi->ipv4.s_addr)
		return;
	unsigned prefix = (unsigned)__builtin_popcount(ifi->netmask.s_addr);
	noos_inet_ntop(NOOS_AF_INET, &ifi->ipv4, addr, sizeof(addr));
	noos_inet_ntop(NOOS_AF_INET, &ifi->gateway, gw, sizeof(gw));
	printf("network: %s ipv4 %s/%u", ifi->name, addr, prefix);
	if (ifi->gateway.s_addr && ifi->gateway.s_addr != ifi->ipv4.s_addr)
		printf(" gw %s", gw);
	printf("%s\n", ifi->ipv4_dhcp ? " (dhcp)" : "");
}

static void print_interface(unsigned i)
{
	struct noos_ifinfo ifi;
	if (noos_if_info(i, &ifi) < 0)
		return;
	const uint8_t *m = ifi.mac;
	if (m[0] | m[1] | m[2] | m[3] | m[4] | m[5])
		printf("network: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %s, link %s\n",
		       ifi.name, m[0], m[1], m[2], m[3], m[4], m[5], ifi.mtu,
		       ifi.up ? "up" : "down", ifi.link_up ? "up" : "down");
	else
		printf("network: %s loopback, %s\n", ifi.name, ifi.up ? "up" : "down");
	print_ipv4(&ifi);
	for (unsigned a = 0; a < ifi.ipv6_count && a < NOOS_IF_MAX_IPV6; a++) {
		char text[NOOS_INET6_ADDRSTRLEN];
		noos_inet_ntop(NOOS_AF_INET6, &ifi.ipv6[a], text, sizeof(text));
		printf("network: %s ipv6 %s%s\n", ifi.name, text,
		       ifi.ipv6_preferred & (1u << a) ? " (preferred)" : "");
	}
}

/* Network cards are optional: without one there is nothing to wait for. */
static void print_network(void)
{
	int cards = noos_net_start();
	if (cards <= 0) {
		printf("network: no network card (./noos run --net user gives one)\n");
		return;
	}
	if (noos_net_wait(DHCP_WAIT_NS) < 0)
		printf("network: no IPv4 address after %llu s\n", DHCP_WAIT_NS / 1000000000ull);
	int n = noos_if_count();
	for (int i = 0; i < n; i++)
		print_interface((unsigned)i);
}

int main(int argc, char **argv)
{
	uint64_t main_ns = noos_time_ns(); /* first: how long everything before main took */
	printf("Hello from noos!\n");
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	const char *who = noos_getenv("greet");
	if (who)
		printf("greet = %s\n", who);
	print_boot_time(main_ns);
	printf("cpus: %u\n", noos_cpu_count());
	print_memory();
	print_network();
	return 3;
}
