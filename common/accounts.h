/* accounts: the people who may log in to a daemon's web console, and the lockout that
 * slows down password guessing.
 *
 * The accounts of a data directory live in DIR/users (mode 0600), one line per account:
 *     NAME ROLE HASH
 * HASH is crypto_pwhash_str (Argon2id, OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE), so
 * the file holds no password. Writers replace the file atomically (temp file, fsync,
 * rename, fsync of the directory) under a lock (DIR/users.lock) that excludes other
 * processes and other threads, so `dualsync user add` works whether or not the daemon
 * runs, and the daemon re-reads the file at each login.
 *
 * A DIR/users line that does not parse is an error (DS_EIO, logged with its line number)
 * for every call that reads the file: a half-understood account list must not let anyone
 * in, nor be rewritten without the line.
 *
 * Lists are JSON (jansson) because the console and `--json` print them as they are.
 * The file functions may be called from any thread; the guard is thread-safe. */
#ifndef DUALSYNC_ACCOUNTS_H
#define DUALSYNC_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum account_role { ACCOUNT_VIEWER = 0, ACCOUNT_OPERATOR = 1 };

#define ACCOUNT_NAME_MAX 64       /* bytes, UTF-8, including the NUL */
#define ACCOUNT_PASSWORD_MIN 8    /* bytes */
#define ACCOUNT_PASSWORD_MAX 1024 /* bytes; longer is refused (bounds the hashing work) */
#define ACCOUNT_LOCK_FAILURES 5
#define ACCOUNT_LOCK_MS 60000u
#define ACCOUNT_GUARD_NAMES 1024 /* names the default guard tracks */

/* "operator" / "viewer" ("unknown" for a value outside the enum). Never NULL. */
const char *account_role_name(enum account_role r);

/* Parses "operator" / "viewer". DS_EINVAL on anything else (*out untouched). */
int account_role_parse(const char *text, enum account_role *out);

/* 1..63 bytes of valid UTF-8 with no whitespace (ASCII or Unicode, e.g. U+3000), no
 * control or invisible format characters (C0, DEL, C1, zero-width, bidi controls), and
 * none of ':' '/' '"' '\'' '`'. Chinese names are fine. NULL is not valid. */
bool account_name_valid(const char *name);

/* Adds an account. The password is hashed before the file is locked.
 * DS_EEXIST: the name is taken. DS_EINVAL: bad name, password shorter than
 * ACCOUNT_PASSWORD_MIN or longer than ACCOUNT_PASSWORD_MAX, role outside the enum.
 * DS_EIO: cannot read or write DIR/users, or it has a malformed line (logged). */
int accounts_add(const char *dir, const char *name, enum account_role role, const char *password);

/* Sets a new password (the role stays). DS_ENOTFOUND, DS_EINVAL (bad password), DS_EIO. */
int accounts_passwd(const char *dir, const char *name, const char *password);

/* Removes an account. DS_ENOTFOUND, DS_EIO. */
int accounts_remove(const char *dir, const char *name);

/* The role of one account. DS_ENOTFOUND (also for an invalid name), DS_EIO. */
int accounts_get(const char *dir, const char *name, enum account_role *role_out);

/* Every account, in the order they were added: [{"name":..,"role":..}]. A missing file is
 * an empty list. On DS_OK *list_out is a new reference the caller decrefs. DS_EIO. */
int accounts_list(const char *dir, json_t **list_out);

/* ---- login lockout: in memory, per process, thread-safe */

struct accounts_guard;

/* A guard that tracks up to ACCOUNT_GUARD_NAMES names. It hashes a random password once
 * (about 0.15 s) to have a dummy hash for unknown names. Caller owns; free with
 * accounts_guard_destroy(). */
struct accounts_guard *accounts_guard_new(void);

/* The same, tracking up to max_names names (at least 1), with dummy_hash (a
 * crypto_pwhash_str string, copied) for unknown names, or NULL to make one. Tests pass a
 * cheap dummy so that their many refusals do not cost 0.15 s each. */
struct accounts_guard *accounts_guard_new_with(size_t max_names, const char *dummy_hash);

/* Frees the guard. No login may be running on it. NULL-safe; sets *gp to NULL. */
void accounts_guard_destroy(struct accounts_guard **gp);

/* Checks name + password against DIR/users at time now_ms (any monotonic or wall clock in
 * ms, the same one on every call).
 *   DS_OK      *role_out is the account's role; the name's failure count is reset.
 *   DS_EAUTH   unknown name or wrong password: the same answer for both, and about the
 *              same time (an unknown name is verified against a dummy hash).
 *   DS_EAGAIN  the name is locked; *retry_ms_out is the time left (1..ACCOUNT_LOCK_MS).
 *              Also (retry 1000 ms) in the absurd case that every tracked slot is in the
 *              middle of a login.
 *   DS_EIO     DIR/users cannot be read or has a malformed line (logged); not counted.
 * ACCOUNT_LOCK_FAILURES consecutive failures of one name (existing or not) lock it for
 * ACCOUNT_LOCK_MS: the last of them returns DS_EAUTH and locks; attempts during the lock
 * return DS_EAGAIN without checking the password, even the right one. When the lock
 * ends the name starts again from zero failures. Attempts on one name are serialised
 * (so parallel guesses cannot outrun the count); different names check in parallel.
 * Memory is bounded: when the table is full, the least recently used unlocked name is
 * forgotten (a locked one only if every tracked name is locked). An invalid name (see
 * account_name_valid) is never tracked: it cannot be an account. */
int accounts_login(struct accounts_guard *g, const char *dir, const char *name,
                   const char *password, uint64_t now_ms, enum account_role *role_out,
                   uint64_t *retry_ms_out);

/* ---- the command line, shared by `dualsync` and `dualsync-broker` */

struct cli_parsed;

/* Runs `user add NAME --role R [--password-file F]`, `user passwd NAME [--password-file F]`,
 * `user remove NAME` or `user list` on p->data_dir, printing to stdout (JSON with p->json)
 * and bilingual refusals to stderr. A password comes from the first line of --password-file
 * (trailing CR/LF stripped) or stdin; on a terminal it is asked twice without echo and both
 * must match (Ctrl-C restores the terminal). A taken (add) or unknown (passwd) name is
 * refused before the password is asked. Refuses a directory with neither node.conf nor
 * broker.conf (a mistyped --data). Returns the process exit code: 0 ok, 1 refused or
 * failed (bad name, short password, file errors), 2 usage (bad --role). */
int accounts_cli_main(const struct cli_parsed *p);

#endif
