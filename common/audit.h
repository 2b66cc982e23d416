/* audit: who did what in the web console, for the operator to read back.
 *
 * DIR/audit.log (mode 0600) holds one JSON object per line:
 *     {"ts":"2026-12-02T10:31:00Z","user":"张伟","action":"intro send","target":"DY-0001",
 *      "outcome":"ok"}
 * Each line is appended with one write() on an O_APPEND descriptor and fsync'd before
 * audit_append returns DS_OK (the directory too when the file was just created), so a crash
 * loses no line that was reported written, and appenders on several threads or processes
 * never interleave within a line. The log only grows; rotating it is the operator's
 * business (move it away: the next append starts a new file).
 *
 * Lists are JSON (jansson) because the console and `--json` print them as they are.
 * Every function may be called from any thread. */
#ifndef DUALSYNC_AUDIT_H
#define DUALSYNC_AUDIT_H

#include <jansson.h>
#include <stddef.h>

#define AUDIT_FIELD_MAX 4096 /* bytes of UTF-8 in one field */

/* Appends one line stamped with the current UTC time (whole seconds). user and action are
 * 1..AUDIT_FIELD_MAX bytes of UTF-8; target and outcome may be "" (not NULL).
 * DS_EINVAL: a field that is NULL, empty where it may not be, too long or not UTF-8
 * (nothing written). DS_EIO: cannot open, write or fsync (logged). */
int audit_append(const char *dir, const char *user, const char *action, const char *target,
                 const char *outcome);

/* The last `limit` lines of DIR/audit.log (0 = all), oldest first, as a JSON array of the
 * objects on them. Blank lines are ignored. A line that is not a JSON object with string
 * ts, user, action, target and outcome is skipped and counted in *skipped_out (which may
 * be NULL), so `limit` counts such lines too. Reads only the tail it needs. A missing file
 * is an empty array. On DS_OK *list_out is a new reference the caller decrefs. DS_EIO. */
int audit_list(const char *dir, size_t limit, json_t **list_out, size_t *skipped_out);

/* ---- the command line, shared by `dualsync` and `dualsync-broker` */

struct cli_parsed;

/* Runs `audit [--limit N]` on p->data_dir: one line per entry (time, user, action, target,
 * outcome; "-" for an empty field; a note when there is none), or the JSON array with
 * p->json. Skipped lines are reported on stderr. Control characters are printed as '?'.
 * Refuses a directory with neither node.conf nor broker.conf (a mistyped --data).
 * Returns the process exit code: 0 ok, 1 failed, 2 usage (bad --limit). */
int audit_cli_main(const struct cli_parsed *p);

#endif
