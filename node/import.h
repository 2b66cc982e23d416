/* import: `dualsync --data DIR import members FILE.csv [--json]` on a unit's node. Each
 * good row of the roster (common/roster.h) becomes an introduction letter (intro send with
 * skip-existing), sent to the node's daemon in atomic requests of IMPORT_CHUNK commands.
 * Re-running the same file writes nothing twice: the daemon skips a member this unit has
 * already introduced to the same community. */
#ifndef DUALSYNC_IMPORT_H
#define DUALSYNC_IMPORT_H

#include <stdbool.h>

#define IMPORT_CHUNK 500     /* commands per request: one atomic append on the daemon */
#define IMPORT_BAD_MAX 10000 /* bad rows described one by one; any more are only counted */

/* Imports the roster at csv_path through the daemon of data_dir. The file is read twice:
 * once to count its rows and find any error that refuses the whole file (header, a field
 * too long), so that such a file imports nothing; then to send. A bad row is skipped and
 * reported with its row number, column and reason (zh-CN, English); a row the daemon
 * refuses is reported the same way and the rest of its request is sent again without it.
 * Output: a progress bar on stderr when it is a terminal; the bad rows on stderr and a
 * summary on stdout, or with json one document on stdout:
 *   {"rows":N,"imported":N,"skipped":N,"bad":[{"row":N,"column":S|null,"reason_zh":S,
 *    "reason_en":S[,"refused":true]}][,"bad_omitted":N][,"error":{"reason_zh":S,...}]}
 * Returns the CLI exit code: 0 every row imported or already present; 1 some rows bad or
 * refused, or the daemon stopped the import; 2 the file cannot be opened or is refused
 * whole; 3 no daemon runs on data_dir; 4 the daemon did not answer in time. */
int import_members(const char *data_dir, const char *csv_path, bool json);

#endif
