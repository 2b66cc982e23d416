/* fdlimit: the process's budget of file descriptors, shared by sockets and table files.
 * systemd starts a service with a soft RLIMIT_NOFILE of 1024 (for select()) and a hard
 * limit of 524288, and leaves it to a program that needs more to raise its soft limit:
 * a broker holds one connection per org (2,500 in a city) and RocksDB one descriptor per
 * table file it keeps open. */
#ifndef DUALSYNC_FDLIMIT_H
#define DUALSYNC_FDLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most descriptors a daemon asks for, and the most table files a store keeps open:
 * far above what a city's year needs (a few hundred files, 2,500 connections). */
#define FDLIMIT_WANT 65536
#define FDLIMIT_STORE_FILES_MAX 16384
/* The fewest table files a store keeps open, however low the limit. */
#define FDLIMIT_STORE_FILES_MIN 64

/* Raises the soft RLIMIT_NOFILE towards the hard limit, to at most FDLIMIT_WANT (never
 * lowers it). Returns the soft limit in force afterwards. Daemons call it once at start. */
uint64_t fdlimit_raise(void);

/* The soft RLIMIT_NOFILE in force now. */
uint64_t fdlimit_current(void);

/* How many table files a store may keep open under a soft limit of 'soft' descriptors:
 * half of them, the other half left to sockets, pipes and the WAL, within
 * [FDLIMIT_STORE_FILES_MIN, FDLIMIT_STORE_FILES_MAX]. */
int fdlimit_store_files(uint64_t soft);

/* Whether a soft limit of 'soft' descriptors leaves room, beside the store's share, for
 * 'connections' peers' sockets and FDLIMIT_SPARE more (console, links, control socket,
 * WAL, log). */
#define FDLIMIT_SPARE 256
bool fdlimit_enough_for(uint64_t soft, size_t connections);

#endif
