/*
 * noos.h — the one public header of the noos runtime.
 *
 * Error convention: every call returns 0 or a non-negative value on success,
 * or a negative error code whose numbers equal Linux errno values (-ENOMEM is
 * -12), so a Linux ABI layer passes them through unchanged.
 *
 * The application provides int main(int argc, char **argv). argv comes from
 * the boot command line (QEMU -append): words of the form key=value before a
 * lone "--" are the environment (noos_getenv), the other words and everything
 * after "--" are arguments. main's return value is the VM's exit status.
 */
#ifndef NOOS_H
#define NOOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- lifecycle ---- */

/* Stop the VM with this exit status (0..127 survive every VMM noos supports). */
void noos_exit(int status) __attribute__((noreturn));
/* Power the VM off (exit status 0). */
void noos_poweroff(void) __attribute__((noreturn));
/* The value of key=value from the boot command line, or NULL. */
const char *noos_getenv(const char *key);

/* ---- console ---- */

/* Write len bytes to the serial console; returns len. */
long noos_console_write(const void *buf, size_t len);

/* ---- random numbers ---- */

/*
 * Fill buf with len bytes from noos's cryptographic generator (ChaCha20,
 * seeded and reseeded from virtio-rng and the CPU's RDSEED/RDRAND/RNDR).
 * Until the pool has been seeded with 256 bits of entropy it waits, polling
 * the sources, for at most a few seconds. Returns len; -EAGAIN if the pool
 * could not be seeded in time, -ENODEV if there is no entropy source at all,
 * -EINVAL for a bad buffer. It never returns predictable bytes.
 */
long noos_random(void *buf, size_t len);

/* ---- memory ---- */

#define NOOS_PAGE_SIZE  4096
#define NOOS_MEM_ORDERS 19 /* page allocator blocks of NOOS_PAGE_SIZE << 0..18 (4 KiB..1 GiB) */

struct noos_mem_stats {
	uint64_t total_pages;                   /* RAM pages the page allocator manages */
	uint64_t free_pages;                    /* of which free */
	uint64_t free_blocks[NOOS_MEM_ORDERS];  /* free blocks of each order */
	uint64_t used_blocks[NOOS_MEM_ORDERS];  /* allocated blocks of each order */
	uint64_t failed_allocs;                 /* page requests refused for lack of memory */
	uint64_t heap_pages;                    /* pages the heap holds (slabs, large blocks) */
	uint64_t heap_bytes;                    /* bytes in live malloc blocks (usable size) */
	uint64_t heap_objects;                  /* live malloc blocks */
	uint64_t noos_bytes;                    /* RAM noos itself used at boot: image, metadata */
	uint64_t ram_bytes;                     /* RAM the boot info reported that noos maps */
	uint64_t pagetable_pages;               /* pages holding page tables now */
	uint64_t vm_reserved_bytes;             /* address space reserved (noos_vm_reserve, stacks) */
	uint64_t vm_resident_pages;             /* pages behind it (touched commits, stacks) */
	uint64_t vm_spans;                      /* ranges the reservation bookkeeping holds */
};
/* Fill *st with the page allocator's and the heap's counters; -EINVAL if st is NULL. */
int noos_mem_stats(struct noos_mem_stats *st);

/*
 * Virtual memory, for a language runtime's mmap. Address space is reserved
 * with nothing behind it; committed memory costs nothing until touched, and
 * then each page appears zeroed (demand-zero, through the page-fault
 * handler). Addresses and sizes are multiples of NOOS_PAGE_SIZE; a range
 * given to commit, decommit, protect and release may span several
 * reservations but must lie wholly in reserved address space.
 *
 *   reserve   address space only; *addr at hint if that range is free, else
 *             anywhere. -EINVAL (size 0 or misaligned), -ENOMEM (no room).
 *   commit    make the range accessible with prot. Pages already touched
 *             keep their contents (only the protection changes).
 *   decommit  like MADV_DONTNEED + PROT_NONE: the memory goes back to the
 *             page allocator and the range is reserved only; a touch is a
 *             fault until it is committed again, and then it reads zeros.
 *   protect   change the protection of committed memory (-EINVAL elsewhere);
 *             NOOS_PROT_NONE keeps the contents but allows no access.
 *   release   give the range back (pages, page tables, address space).
 *             Releasing what was never reserved panics in debug builds.
 *
 * prot: NOOS_PROT_NONE or READ, optionally with WRITE or EXEC. WRITE and
 * EXEC together are refused (-EINVAL): memory is never writable and
 * executable at once (W^X). EXEC or WRITE imply READ. A touch the
 * protection does not allow panics with a report of the address and why.
 * Every call returns 0, -EINVAL (misaligned, outside reserved space, bad
 * prot) or -ENOMEM (no memory for the bookkeeping or the page tables).
 */
#define NOOS_PROT_NONE  0
#define NOOS_PROT_READ  1
#define NOOS_PROT_WRITE 2
#define NOOS_PROT_EXEC  4
int noos_vm_reserve(size_t size, void *hint, void **addr);
int noos_vm_commit(void *addr, size_t size, int prot);
int noos_vm_decommit(void *addr, size_t size);
int noos_vm_protect(void *addr, size_t size, int prot);
int noos_vm_release(void *addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif
