/* import: a unit's member roster (CSV, common/roster.h) into introduction letters, through
 * the node's daemon. Each good row becomes `intro send` with skip-existing, sent over the
 * control socket in atomic requests of IMPORT_CHUNK commands. Re-running the same file
 * writes nothing twice: the daemon skips a member this unit has already introduced to the
 * same community.
 *
 * Two callers: `dualsync --data DIR import members FILE.csv [--json]` (import_members) and
 * the node console's 导入 page (node/console_import.c), both through import_roster, which
 * prints nothing. Its result is a JSON document because that is what the CLI prints with
 * --json and what the console renders, like every answer of the control API. */
#ifndef DUALSYNC_IMPORT_H
#define DUALSYNC_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define IMPORT_CHUNK 500     /* commands per request: one atomic append on the daemon */
#define IMPORT_BAD_MAX 10000 /* bad rows described one by one; any more are only counted */

/* How far an import is: rows handled so far (imported, skipped or bad) of the rows in the
 * file. Called on the importing thread after each request and each bad row, then once with
 * final set when a file that was read to the end is done; a callback that draws throttles
 * itself. */
typedef void (*import_progress_fn)(void *arg, long done, long rows, bool final);

/* Imports the roster read from csv (borrowed, not closed; it must be seekable: a regular
 * file or fmemopen) through the daemon of data_dir. The file is read twice: once to count
 * its rows and find any error that refuses the whole file (header, a field too long), so
 * that such a file imports nothing; then to send. A bad row is skipped and described with
 * its row number, column and reason (zh-CN, English); a row the daemon refuses is described
 * the same way (with "refused":true) and the rest of its request is sent again without it.
 * progress may be NULL. Thread-safe: no globals; each call has its own reader and requests.
 *
 * *result_out is always set, also when the import stopped, to a new document the caller
 * owns (json_decref):
 *   {"rows":N,"imported":N,"skipped":N,"bad":[{"row":N,"column":S|null,"reason_zh":S,
 *    "reason_en":S[,"refused":true]}...][,"bad_omitted":N][,"error":{"reason_zh":S,
 *    "reason_en":S}]}
 * bad is in row order; "error" is there exactly when the return is not DS_OK.
 * Returns DS_OK: every row was imported, skipped as already present, or is in bad.
 * DS_EINVAL: the file is refused whole or cannot be read; nothing was written.
 * DS_ENOTRUNNING: no daemon runs on data_dir. DS_ETIMEDOUT: the daemon did not answer.
 * Another code: the daemon refused the import as a whole (DS_ESIDE not a unit,
 * DS_ERESTORE, DS_EAGAIN not yet in session, DS_EIO), or DS_EPROTO the call failed.
 * After any of the last three, the requests answered before it stay written (counted in
 * imported and skipped). */
int import_roster(const char *data_dir, FILE *csv, import_progress_fn progress, void *progress_arg,
                  json_t **result_out);

/* The CLI's `import members`: import_roster on the file at csv_path, with a progress bar
 * on stderr when it is a terminal; the bad rows on stderr and a summary on stdout, or with
 * json the result document on stdout. Returns the CLI exit code: 0 every row imported or
 * already present; 1 some rows bad or refused, or the daemon stopped the import; 2 the
 * file cannot be opened or is refused whole; 3 no daemon runs on data_dir; 4 the daemon
 * did not answer in time. */
int import_members(const char *data_dir, const char *csv_path, bool json);

#endif
