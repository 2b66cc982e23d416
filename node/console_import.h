/* console_import: the node console's 导入 page, a unit's member roster (CSV) uploaded and
 * imported as introduction letters (node/import.h), with the refused rows in a table.
 * Both functions are page functions of the node's console table (common/console.h); they
 * run on web threads and reach the daemon only through its control socket. */
#ifndef DUALSYNC_CONSOLE_IMPORT_H
#define DUALSYNC_CONSOLE_IMPORT_H

struct page;

/* GET /import: what the roster's columns are, and the upload form (a unit's console; a
 * community's says that only units import). */
void page_import(struct page *pg);

/* POST /import (a write: the console lets only operators reach it): imports the uploaded
 * field "file" and shows the rows read, imported, already present (skipped) and the
 * refused rows with row, column and reason. A file refused whole writes nothing (422).
 * Audited as "import members" with the file's name as target. */
void post_import(struct page *pg);

#endif
