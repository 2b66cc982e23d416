/* owner: root must not write into a data directory that belongs to the service user.
 *
 * The daemons run as the `dualsync` user (deploy/systemd). A file that root creates in
 * their data directory (the keys at init, D/users at `user add`, RocksDB's files) is
 * unreadable to them afterwards, and the service fails at its next start with a message
 * about permissions far from the cause. So every tool, run as root on a data directory
 * owned by another user (or, when it does not exist yet, made inside a folder owned by
 * one), refuses before touching anything and prints the same command run as that user.
 * And a daemon starts only on a private directory: its own, closed to everyone else
 * (a directory made by hand with mode 0755 would expose db/ and every member in it). */
#ifndef DUALSYNC_OWNER_H
#define DUALSYNC_OWNER_H

#include <stdbool.h>
#include <sys/types.h>

/* The uid that owns data_dir, or its parent folder when data_dir does not exist yet;
 * (uid_t)-1 when neither can be looked at. */
uid_t owner_of_data_dir(const char *data_dir);

/* True when this process may go on: it is not root, or the owner found above is root or
 * unknown. Otherwise prints the refusal with the fix (`runuser -u USER -- argv...`) to
 * stderr and returns false. */
bool owner_check(const char *data_dir, int argc, char **argv);

/* The umask every tool sets first: what dualsync creates is its user's alone (a card, which
 * is public, is made readable on purpose). */
#define OWNER_UMASK 077

/* True when dir belongs to this process's user and neither its group nor others have any
 * access to it. Otherwise prints what is wrong and the command that fixes it, and returns
 * false. */
bool owner_dir_private(const char *dir);

/* Whether the process at the other end of the local socket fd (SO_PEERCRED) may use this
 * daemon's control socket: it runs as the daemon's user, or as root. The socket file's
 * mode keeps others out already; this holds even when someone loosened it by hand. */
bool owner_peer_allowed(int fd);

#endif
