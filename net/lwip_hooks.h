/*
 * lwIP hooks (LWIP_HOOK_FILENAME in lwipopts.h), included by lwIP's own
 * sources after its headers.
 */
#ifndef NOOS_LWIP_HOOKS_H
#define NOOS_LWIP_HOOKS_H

#include "lwip/ip_addr.h"

/* net/isn.c: RFC 6528 initial sequence numbers, a keyed hash of the connection plus a clock. */
u32_t net_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                  u16_t remote_port);
#define LWIP_HOOK_TCP_ISN net_tcp_isn

#endif
