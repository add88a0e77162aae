/*
 * lwIP's operating-system types on noos (lwIP 2.1 src/include/lwip/sys.h
 * describes the contract; net/sys_arch.c implements it): semaphores and
 * mutexes are noos's own (noos.h), held by value; a mailbox is a bounded
 * ring with two counting semaphores; threads are detached noos threads.
 */
#ifndef NOOS_LWIP_SYS_ARCH_H
#define NOOS_LWIP_SYS_ARCH_H

#include <stdbool.h>

#include "noos.h"

typedef struct {
	noos_sem_t sem;
	bool valid;
} sys_sem_t;

typedef struct {
	noos_mutex_t mutex;
	bool valid;
} sys_mutex_t;

struct sys_mbox;
typedef struct sys_mbox *sys_mbox_t; /* NULL: invalid */

typedef noos_thread_t *sys_thread_t;

/* SYS_ARCH_PROTECT: a recursive, interrupt-masking lock (sys_arch.c). */
typedef unsigned long sys_prot_t;

#define sys_sem_valid(s)         ((s)->valid)
#define sys_sem_set_invalid(s)   ((s)->valid = false)
#define sys_mutex_valid(m)       ((m)->valid)
#define sys_mutex_set_invalid(m) ((m)->valid = false)
#define sys_mbox_valid(m)        (*(m) != NULL)
#define sys_mbox_set_invalid(m)  (*(m) = NULL)

#endif
