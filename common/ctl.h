/* ctl: the local control API between an operator CLI and its daemon.
 * A request carries one or more commands (name + key/value arguments); a reply carries a
 * code, an error message in Chinese and English, and a JSON result. Several write commands
 * in one request commit atomically (bulk loads, imports). The socket is
 * <data dir>/ctl.sock; it never leaves the machine. */
#ifndef DUALSYNC_CTL_H
#define DUALSYNC_CTL_H

#include "dualsync.pb-c.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_SOCKET_NAME "ctl.sock"
#define CTL_TIMEOUT_MS 30000

/* The value of --key, or NULL when absent. */
const char *ctl_arg(const Dualsync__CtlCommand *cmd, const char *key);

/* Rewrites, in every command of r, the date arguments (date, due, start, as-of) that
 * ids_date_normalize reads to YYYY-MM-DD, and the list arguments (categories, lead,
 * attendees) to "a,b" (fields_list_canonical): one reading of what operators type, for the
 * CLI, batch files and the consoles alike. A value that does not parse is left for its
 * handler to refuse with its own message. */
void ctl_normalize_args(Dualsync__CtlRequest *r);
/* True when the flag --key was given (with any value). */
bool ctl_flag(const Dualsync__CtlCommand *cmd, const char *key);

/* How replies write JSON: compact, reals with 10 significant digits. A reply written as
 * text (ctl_reply_ok_text) writes its numbers the same way. */
#define CTL_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* Builds an OK reply carrying result (a JSON value; ownership taken, may be NULL). */
void ctl_reply_ok(json_t *result, uint8_t **out, size_t *len_out);
/* The same with the result already written as JSON text (not taken). */
void ctl_reply_ok_text(const char *json, uint8_t **out, size_t *len_out);
/* Builds an error reply. */
void ctl_reply_error(int code, const char *zh, const char *en, uint32_t failed_index, uint8_t **out,
                     size_t *len_out);

/* A request under construction by a CLI. */
struct ctl_request;
struct ctl_request *ctl_request_new(void);
void ctl_request_destroy(struct ctl_request **reqp);
/* Starts a new command in the request. */
void ctl_request_command(struct ctl_request *req, const char *cmd);
/* Adds an argument to the current command (strings copied). */
void ctl_request_arg(struct ctl_request *req, const char *key, const char *value);
size_t ctl_request_count(const struct ctl_request *req);
/* The name of command i (< ctl_request_count). */
const char *ctl_request_command_name(const struct ctl_request *req, size_t i);
/* Encodes the request; *out is malloc'd (caller frees). */
void ctl_request_pack(const struct ctl_request *req, uint8_t **out, size_t *len_out);

/* Sends the request to the daemon of data dir and waits for the reply.
 * DS_OK with *reply_out owned by the caller (wire_msg_free); DS_ENOTRUNNING; DS_EACCES
 * (the daemon is another user's: only its user and root may call it); DS_ETIMEDOUT;
 * DS_EPROTO when the reply does not decode. */
int ctl_call(const char *data_dir, const struct ctl_request *req, int timeout_ms,
             Dualsync__CtlReply **reply_out);

/* Path of the control socket of data_dir into buf. DS_EINVAL if it does not fit (ipc
 * paths are limited to ~100 bytes by the kernel). */
int ctl_socket_path(const char *data_dir, char *buf, size_t size);

/* Whether command (a daemon's name for it) only reads what a node stores: the CLI has it
 * answered from the log when the node's daemon is stopped (`dualsync-node read`). */
bool ctl_reads_records(const char *command);
/* The largest read request `dualsync-node read` takes (a read's arguments are a few ids). */
#define CTL_READ_REQUEST_MAX ((size_t)1 << 20)

/* What both daemons' `status` says about their event log (the consoles' /metrics read it,
 * console_metrics_log; in ctl_status.c, which the CLI does not link). New JSON values,
 * owned by the caller:
 *   commits: {"count":N,"sum_ms":X,"max_ms":X,"buckets":[[0.5,n],[1,n],...,[1000,n]]},
 *            the commit latency histogram (eventlog_commits, hist_json); n cumulative:
 *            commits that took at most that many ms (the rest took longer);
 *   store:   {"sst_bytes":N,"memtable_bytes":M} (store_size), or NULL when RocksDB does
 *            not answer (logged). */
struct eventlog;
json_t *ctl_commits_json(const struct eventlog *log);
json_t *ctl_store_json(struct eventlog *log);

#endif
