/* console: the web console every daemon serves (docs/CONSOLE.md). This module is what the
 * node's and the broker's consoles share: accounts and sessions, the CSRF token, the
 * security headers, the page frame (zh-CN, with an English switch on every page), the
 * login, logout and language pages, /healthz, access to /metrics, the stylesheet, and the
 * audit of writes. A daemon brings a table of pages (node/console.c, broker/console.c).
 *
 * Threads: pages run on the web server's threads (web.h), never on the daemon's loop.
 * They read and write through the daemon's control socket (page_ctl), exactly as the CLI
 * does, so validation, refusals and atomicity are the loop's, and a slow page never
 * holds the loop. Accounts (DIR/users) and the audit log (DIR/audit.log) are files.
 *
 * Access: every page but /login, /lang, /healthz and /static needs a session; a POST needs
 * the session's CSRF token in its form; a POST that writes needs the operator role (a
 * viewer gets 403) and is audited with the account name, and so is every member page. */
#ifndef DUALSYNC_CONSOLE_H
#define DUALSYNC_CONSOLE_H

#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "web.h"

#include <jansson.h>
#include <stdbool.h>

struct console;
struct page; /* one request being answered; borrowed by the page functions */

typedef void (*page_fn)(struct page *pg);

struct console_page {
    const char *path; /* exact path, "/members" */
    const char *title_zh;
    const char *title_en;
    bool nav;        /* listed in the navigation bar */
    page_fn get;     /* NULL: GET is 405 */
    page_fn post;    /* NULL: POST is 405 */
    bool post_write; /* the POST writes: operator only, audited by the page (page_audit) */
};

struct console_site {
    const char *dir;     /* the daemon's data directory */
    const char *role_zh; /* "社区控制台" */
    const char *role_en; /* "Community console" */
    const char *org_name;
    const char *org_id;
    const struct console_page *pages;
    size_t n_pages;
    /* Writes /metrics (Prometheus text) into the page's buffer; NULL: 404. */
    void (*metrics)(struct page *pg);
    /* Given to the pages (page_arg): immutable facts of the daemon, never loop state. */
    const void *arg;
};

/* Starts the console of w for site (copied; the strings and the table must outlive the
 * console). With an empty bind: DS_OK and *console_out NULL (the console is off). Refuses
 * (DS_EINVAL) an address other than loopback without cert and key unless allow_plaintext
 * is set; DS_EIO when it cannot serve. Errors are printed for the operator in Chinese and
 * English. */
int console_start(const struct web_config *w, const struct console_site *site,
                  struct console **console_out);
void console_stop(struct console **cp);

/* ---------------------------------------------------------------- for pages */

const struct web_request *page_req(const struct page *pg);
const void *page_arg(const struct page *pg);
const char *page_dir(const struct page *pg);
const char *page_user(const struct page *pg);
bool page_is_operator(const struct page *pg);
bool page_en(const struct page *pg);
/* zh or en, as the reader chose. */
const char *page_t(const struct page *pg, const char *zh, const char *en);
/* The body being written (HTML by default). */
struct buf *page_buf(struct page *pg);
/* The frame: head, the header with the org, the navigation, the user and the language
 * switch; then the page's h1. page_end closes it. */
void page_begin(struct page *pg, const char *title_zh, const char *title_en);
void page_end(struct page *pg);
/* Text, HTML-escaped. */
void page_text(struct page *pg, const char *s);
/* The reader's language of a pair, escaped. */
void page_tt(struct page *pg, const char *zh, const char *en);
/* HTML written as is: every %s argument must already be safe (use page_text for data). */
void page_printf(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* <form method="post" action=...> with the CSRF token; multipart for uploads. */
void page_form_begin(struct page *pg, const char *action, bool multipart);
void page_set_status(struct page *pg, int status);
/* Adds a response header (copied), e.g. Content-Disposition for a download. */
void page_header(struct page *pg, const char *name, const char *value);
void page_redirect(struct page *pg, const char *location);
/* A reply that is not HTML (CSV, SVG, text); body taken. */
void page_reply(struct page *pg, int status, const char *content_type, char *body, size_t len);
/* An error page (404, 400...) with a message in both languages. */
void page_error(struct page *pg, int status, const char *zh, const char *en);

/* The answer of a control call: DS_OK with result (owned, json_decref; may be NULL), or
 * the daemon's refusal in both languages (or why the call failed). */
struct page_answer {
    int rc;
    json_t *result;
    char zh[512];
    char en[512];
};
/* Sends req to the daemon and waits (CTL_TIMEOUT_MS). */
void page_ctl(struct page *pg, const struct ctl_request *req, struct page_answer *out);
/* One command with arguments given as NULL-terminated key, value pairs. */
void page_ctl_simple(struct page *pg, const char *cmd, struct page_answer *out, ...);
void page_answer_release(struct page_answer *a);
/* Records a console action of the logged-in account (DIR/audit.log). */
void page_audit(struct page *pg, const char *action, const char *target, const char *outcome);

/* The audit page both consoles serve (newest first, the last 500 lines). */
void console_page_audit(struct page *pg);

/* ---------------------------------------------------------------- for /metrics */

/* One metric family of one unlabelled sample: # HELP, # TYPE and the value. */
void console_metric(struct buf *b, const char *name, const char *type, const char *help,
                    long long value);

/* Writes what both daemons' `status` says about their event log (ctl_commits_json,
 * ctl_store_json) in the Prometheus text format: the histogram <prefix>_commit_seconds
 * (cumulative _bucket{le}, _sum, _count, in seconds) and the gauges <prefix>_store_sst_bytes
 * and <prefix>_store_memtable_bytes; each only when status has it. */
void console_metrics_log(struct buf *b, const char *prefix, json_t *status);

#endif
