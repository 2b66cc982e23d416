/* tasks: a list of duties (common/duties.c) as the `tasks` command returns them, sorted by
 * due date (items without one last), then kind, member and letter.
 * A community of 100,000 members has 100,000 report-ins due at once, and its console asks
 * for them 100 at a time. So a list remembers the as-of date and the generation of the log
 * it was computed at (eventlog_generation): while both hold, the node serves every page
 * from it and reads no record again (node/reports.c keeps one in struct node). Rows are
 * plain structs over one text buffer; JSON is built only for the rows asked for. */
#ifndef DUALSYNC_NODE_TASKS_H
#define DUALSYNC_NODE_TASKS_H

#include "duties.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct task_list;

/* An empty list for as_of (YYYY-MM-DD) at the log's generation. */
struct task_list *tasks_new(const char *as_of, uint64_t generation);
void tasks_free(struct task_list **lp);
/* Whether l (may be NULL) is the list of as_of at generation. */
bool tasks_fresh(const struct task_list *l, const char *as_of, uint64_t generation);

/* Adds one duty (a duties_emit_fn: arg is the list); its strings are copied. */
void tasks_add(const struct duty *d, void *list);
/* Puts the rows in order; call once, after the last tasks_add (none may follow). */
void tasks_sort(struct task_list *l);

/* How many tasks, and how many of them are overdue. */
size_t tasks_count(const struct task_list *l);
size_t tasks_overdue(const struct task_list *l);
/* Rows first .. first + limit - 1 (limit 0: to the end), appended to out as a JSON array
 * of task objects (kind, member, name, ref, due, overdue, actor, org, zh, en). Written as
 * text, not built as jansson objects: a community's 100,000 tasks were 1.1 million
 * objects made, dumped and freed for every full list. */
void tasks_json_text(const struct task_list *l, size_t first, size_t limit, struct buf *out);

#endif
