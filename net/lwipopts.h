/*
 * lwIP 2.1.3 configuration for noos (every option is documented in lwIP's
 * src/include/lwip/opt.h; only what differs from its defaults, or matters,
 * is set here).
 *
 * Threads: NO_SYS=0 on noos threads (net/sys_arch.c), with core locking:
 * a thread calling the socket API or the driver's service thread takes
 * lwIP's core lock and runs the stack itself, instead of posting a message
 * to tcpip_thread and waiting for it.
 *
 * Memory: PBUF_RAM and other heap allocations (mem_malloc) come from the
 * noos heap (MEM_LIBC_MALLOC), counted in lwip_stats.mem; everything of
 * fixed size comes from lwIP's static memp pools, each counted in
 * lwip_stats.memp[] (MEMP_STATS). So a soak test can check that pbufs, the
 * heap bytes lwIP holds and every pool return to their baseline. Received
 * frames normally stay in the virtio-net driver's buffers (custom pbufs,
 * LWIP_SUPPORT_CUSTOM_PBUF): PBUF_POOL serves only the frames the netif
 * copies (small ones, or when the driver's ring runs low). A large TCP
 * segment from the device (GUEST_TSO4/6) is a chain of them, one per
 * buffer, and is copied into one heap pbuf (PBUF_RAM), not the pool.
 *
 * Throughput: window scaling with a 256 KiB receive window and a 256 KiB
 * send buffer, TCP_MSS 1460 (Ethernet): room for four 64 KiB segments
 * received whole (lwIP takes an IP datagram of up to 65535 bytes as one
 * segment, whatever the MTU). lwIP 2.1.3 can send SACK options
 * (LWIP_TCP_SACK_OUT) but does not act on the SACKs it receives; sending
 * them helps the peer recover from loss, so it is on.
 *
 * Sending: frames go to the device as pbuf chains (the netif gathers the
 * pieces, net/tso.c runs segments together), not single pbufs, which would
 * make tcp_write copy even what its caller asked it not to (a 1460-byte
 * copy and a 1.8 KiB allocation per segment: most of a bulk sender's time).
 * A writer that does not copy (TCP_WRITE_FLAG_COPY clear: the raw API,
 * lwiperf) takes a PBUF_ROM per segment it queues, so that pool holds one
 * connection's whole send queue (TCP_SND_QUEUELEN): the send buffer, not
 * the pool, bounds what is in flight. With 64 of them a bulk sender stalled
 * at 64 segments in flight between the peer's delayed ACKs (1.3 MB/s
 * instead of 170 through a tap).
 *
 * Checksums: per netif (LWIP_CHECKSUM_CTRL_PER_NETIF). net/netif.c turns
 * generation of TCP/UDP checksums off when the device completes them
 * (VIRTIO_NET_F_CSUM), and skips checking them for frames the device or
 * the driver vouched for (net/frame.c).
 *
 * The host build (NOOS_NET_HOST: the fuzzer) is NO_SYS=1 with the same
 * protocol options, so the fuzzer exercises the code the image runs.
 */
#ifndef NOOS_LWIPOPTS_H
#define NOOS_LWIPOPTS_H

/* ---- threads and locking ---- */
#ifdef NOOS_NET_HOST
#define NO_SYS               1
#define LWIP_NETCONN         0
#define LWIP_SOCKET          0
#define SYS_LIGHTWEIGHT_PROT 0
#else
#define NO_SYS                        0
#define LWIP_TCPIP_CORE_LOCKING       1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 1
#define SYS_LIGHTWEIGHT_PROT          1
#define LWIP_NETCONN                  1
#define LWIP_SOCKET                   1
#define LWIP_SOCKET_SELECT            1
#define LWIP_SOCKET_POLL              1
#define LWIP_COMPAT_SOCKETS           0 /* lwip_socket() ...: no macros named socket, bind ... */
#define LWIP_POSIX_SOCKETS_IO_NAMES   0 /* but never read/write/close: they are not sockets' */
#define LWIP_NETIF_API                1
#define LWIP_SO_RCVTIMEO              1
#define LWIP_SO_SNDTIMEO              1
#define LWIP_SO_RCVBUF                1
#define LWIP_SO_LINGER                1
#define SO_REUSE                      1
#define LWIP_TCP_KEEPALIVE            1
#define TCPIP_THREAD_NAME             "tcpip"
#define TCPIP_THREAD_STACKSIZE        32768
#define TCPIP_THREAD_PRIO             20 /* above NOOS_PRIO_DEFAULT: timers stay on time */
#define DEFAULT_THREAD_STACKSIZE      32768
#define DEFAULT_THREAD_PRIO           16
#define TCPIP_MBOX_SIZE               128
#define DEFAULT_TCP_RECVMBOX_SIZE     256
#define DEFAULT_UDP_RECVMBOX_SIZE     64
#define DEFAULT_RAW_RECVMBOX_SIZE     16
#define DEFAULT_ACCEPTMBOX_SIZE       32
#define LWIP_NETCONN_FULLDUPLEX       0 /* needs a semaphore per thread (TODO) */
void sys_check_core_locking(void);
void sys_mark_tcpip_thread(void);
#define LWIP_ASSERT_CORE_LOCKED()     sys_check_core_locking()
#define LWIP_MARK_TCPIP_THREAD()      sys_mark_tcpip_thread()
#endif

/* ---- memory ---- */
/*
 * rt/mem.c has a mem_init of its own (the kernel's memory): lwIP's is
 * renamed. A file that includes rt.h as well includes it before any lwIP
 * header, so rt.h's declaration keeps its name.
 */
#define mem_init        lwip_mem_init
#define MEM_LIBC_MALLOC 1
#ifdef NOOS_NET_HOST
#define MEMP_MEM_MALLOC 1 /* every pool element its own malloc block: AddressSanitizer sees it */
#else
#define MEMP_MEM_MALLOC 0
#endif
#define MEM_ALIGNMENT                      8
#define MEMP_OVERFLOW_CHECK                0
#define LWIP_SUPPORT_CUSTOM_PBUF           1
#define PBUF_POOL_SIZE                     64
#define PBUF_POOL_BUFSIZE                  1536 /* a whole Ethernet frame: one pbuf per copied frame */
#define MEMP_NUM_PBUF                      TCP_SND_QUEUELEN /* PBUF_REF/ROM: see Sending above */
#define MEMP_NUM_RAW_PCB                   8
#define MEMP_NUM_UDP_PCB                   16
#define MEMP_NUM_TCP_PCB                   256 /* httpd under wrk: hundreds of connections, TIME_WAITs */
#define MEMP_NUM_TCP_PCB_LISTEN            16
#define MEMP_NUM_TCP_SEG                   1024 /* >= TCP_SND_QUEUELEN */
#define MEMP_NUM_REASSDATA                 8
#define MEMP_NUM_FRAG_PBUF                 32
#define MEMP_NUM_ARP_QUEUE                 64 /* ARP_QUEUE_LEN: one neighbour's burst */
#define MEMP_NUM_NETBUF                    64
#define MEMP_NUM_NETCONN                   96
#define MEMP_NUM_SELECT_CB                 16
#define MEMP_NUM_TCPIP_MSG_API             64
#define MEMP_NUM_TCPIP_MSG_INPKT           64
#define MEMP_NUM_SYS_TIMEOUT               (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define MEMP_NUM_ND6_QUEUE                 32
#define MEMP_NUM_MLD6_GROUP                8
#define MEMP_NUM_IGMP_GROUP                8
#define MEMP_NUM_DNS_API_MSG               8
#define MEMP_NUM_SOCKET_SETGETSOCKOPT_DATA 8
#define MEMP_NUM_NETIFAPI_MSG              8
/* Our receive buffers are the driver's, not PBUF_POOL's: the window is not bounded by it. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

/* ---- link layer ---- */
#define LWIP_ARP                       1
#define LWIP_ETHERNET                  1
#define ARP_TABLE_SIZE                 32
#define ARP_QUEUEING                   1
/*
 * Packets held per neighbour while its MAC is being resolved. lwIP's
 * default, 3, drops the oldest beyond that: the first burst to a new
 * neighbour lost all but 3 (8 connections accepted at once through QEMU's
 * user network, whose gateway lwIP has not resolved yet, lost 5 SYN-ACKs
 * and waited out slirp's 3 s SYN timer: wrk's 2.6 s p99 on a fresh boot).
 * Linux holds about 100 frames per neighbour; 64 here, from the pool below.
 */
#define ARP_QUEUE_LEN                  64
#define ETHARP_SUPPORT_VLAN            0
#define ETH_PAD_SIZE                   0 /* the driver aligns IP headers itself (VNET_RX_FRAME_OFF) */
#define LWIP_NETIF_HOSTNAME            1
#define LWIP_NETIF_STATUS_CALLBACK     1
#define LWIP_NETIF_LINK_CALLBACK       1
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_NETIF_TX_SINGLE_PBUF      0 /* chains: see Sending above */
#define LWIP_NETIF_LOOPBACK            1
#define LWIP_HAVE_LOOPIF               1
#define LWIP_LOOPBACK_MAX_PBUFS        64
#define LWIP_NUM_NETIF_CLIENT_DATA     1
#define LWIP_CHECKSUM_CTRL_PER_NETIF   1

/* ---- IPv4, IPv6 ---- */
#define LWIP_IPV4                     1
#define LWIP_IPV6                     1
#define IP_REASSEMBLY                 1
#define IP_FRAG                       1
#define IP_REASS_MAX_PBUFS            32
#define LWIP_ICMP                     1
#define LWIP_RAW                      1
#define LWIP_IGMP                     1
#define LWIP_DHCP                     1
#define DHCP_DOES_ARP_CHECK           0 /* the probe costs seconds at every boot */
#define LWIP_DHCP_MAX_DNS_SERVERS     2
#define LWIP_AUTOIP                   0
#define LWIP_IPV6_AUTOCONFIG          1 /* SLAAC */
#define LWIP_IPV6_MLD                 1
#define LWIP_IPV6_REASS               1
#define LWIP_IPV6_FRAG                1
#define IPV6_FRAG_COPYHEADER          1 /* 64-bit pointers do not fit the fragment header lwIP reuses */
#define LWIP_IPV6_NUM_ADDRESSES       3
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
/*
 * No DNS servers from router advertisements (RFC 8106): they would take the
 * slots of the ones DHCP or dns= set, and QEMU's user network advertises
 * one that forwards to the host's own resolver. DNS comes from DHCPv4 or dns=.
 */
#define LWIP_ND6_RDNSS_MAX_DNS_SERVERS 0
#define LWIP_IPV6_DHCP6                0
#define LWIP_IPV6_SCOPES               1

/* ---- UDP, TCP ---- */
#define LWIP_UDP                           1
#define LWIP_TCP                           1
#define TCP_MSS                            1460
#define LWIP_WND_SCALE                     1
#define TCP_RCV_SCALE                      3
#define TCP_WND                            (256 * 1024)
#define TCP_SND_BUF                        (256 * 1024)
#define TCP_SND_QUEUELEN                   ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_SNDLOWAT                       (TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ                    1
#define TCP_OOSEQ_MAX_PBUFS                64 /* per connection: bounds the driver buffers one can hold
                                                 (a 64 KiB segment's chain counts 34) */
#define LWIP_TCP_SACK_OUT                  1
#define LWIP_TCP_MAX_SACK_NUM              4
#define TCP_LISTEN_BACKLOG                 1
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
#define TCP_CALCULATE_EFF_SEND_MSS         1

/* ---- DNS ---- */
#define LWIP_DNS            1
#define DNS_MAX_SERVERS     2
#define DNS_TABLE_SIZE      8
#define DNS_MAX_NAME_LENGTH 256
#ifndef NOOS_NET_HOST
/* 53, or the port of dns=ADDR:PORT (net/config.c), so a test can answer on the host. */
extern unsigned short net_dns_port;
#define DNS_SERVER_PORT net_dns_port
#endif
#define LWIP_DNS_SUPPORT_MDNS_QUERIES 0

/* ---- checksums: generated and checked in software unless a netif says otherwise ---- */
#define CHECKSUM_GEN_IP      1
#define CHECKSUM_GEN_UDP     1
#define CHECKSUM_GEN_TCP     1
#define CHECKSUM_GEN_ICMP    1
#define CHECKSUM_GEN_ICMP6   1
#define CHECKSUM_CHECK_IP    1
#define CHECKSUM_CHECK_UDP   1
#define CHECKSUM_CHECK_TCP   1
#define CHECKSUM_CHECK_ICMP  1
#define CHECKSUM_CHECK_ICMP6 1

/* ---- statistics: every drop counted, the pools measurable ---- */
#define LWIP_STATS         1
#define LWIP_STATS_LARGE   1
#define LWIP_STATS_DISPLAY 1
#define LINK_STATS         1
#define ETHARP_STATS       1
#define IP_STATS           1
#define IPFRAG_STATS       1
#define ICMP_STATS         1
#define UDP_STATS          1
#define TCP_STATS          1
#define MEM_STATS          1
#define MEMP_STATS         1
#define SYS_STATS          1
#define IP6_STATS          1
#define ICMP6_STATS        1
#define IP6_FRAG_STATS     1
#define MLD6_STATS         1
#define ND6_STATS          1

/* ---- hooks: TCP initial sequence numbers (RFC 6528) from the entropy pool ---- */
#define LWIP_HOOK_FILENAME "lwip_hooks.h"

#endif
