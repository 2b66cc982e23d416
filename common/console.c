/* console: see console.h. Sessions live in memory only (a restart logs everyone out),
 * in a fixed table under one mutex; a page copies its session out of the table, so no
 * pointer into it outlives the lock. Tokens are 32 random bytes from libsodium, compared
 * in constant time. Every reply carries the same security headers, and every page with
 * data is no-store: the consoles show personal data of party members. */
#include "console.h"

#include "accounts.h"
#include "audit.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSIONS_MAX 256
#define TOKEN_HEX 65 /* 32 bytes in hex, and the NUL */
#define COOKIE_SESSION "ds_session"
#define COOKIE_LANG "ds_lang"
#define COOKIE_PRELOGIN "ds_login" /* the login form's CSRF token, before any session */
#define HEALTH_TIMEOUT_MS 2000

struct session {
    char id[TOKEN_HEX];
    char csrf[TOKEN_HEX];
    char user[ACCOUNT_NAME_MAX];
    enum account_role role;
    uint64_t last_ms;
};

struct console {
    struct console_site site;
    struct web_config w;
    struct web_server *server;
    struct web_server *metrics_server; /* [web] metrics_bind: /metrics and /healthz only */
    struct accounts_guard *guard;
    char *css; /* the stylesheet, joined once */
    size_t css_len;
    pthread_mutex_t lock; /* sessions */
    struct session sessions[SESSIONS_MAX];
};

struct page {
    struct console *con;
    const struct web_request *req;
    struct web_reply *out;
    struct buf body;
    bool has_session;
    struct session s; /* a copy */
    bool en;
    int status;
    const char *content_type;
    bool raw; /* the body is set (page_reply, redirect): no frame */
};

extern const char *const console_css_parts[];

static uint64_t now_ms(void)
{
    return hlc_wall_ms();
}

static void new_token(char out[TOKEN_HEX])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, TOKEN_HEX, raw, sizeof(raw));
}

static bool token_equal(const char *a, const char *b)
{
    return a && b && strlen(a) == TOKEN_HEX - 1 && strlen(b) == TOKEN_HEX - 1 &&
           sodium_memcmp(a, b, TOKEN_HEX - 1) == 0;
}

/* ---------------------------------------------------------------- sessions */

static bool session_find(struct console *c, const char *id, struct session *out)
{
    bool found = false;
    uint64_t now = now_ms(), idle = (uint64_t)c->w.idle_minutes * 60000u;
    if (!id)
        return false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        struct session *s = &c->sessions[i];
        if (!s->id[0] || !token_equal(s->id, id))
            continue;
        if (now - s->last_ms > idle) {
            memset(s, 0, sizeof(*s)); /* idle too long: over */
            break;
        }
        s->last_ms = now;
        *out = *s;
        found = true;
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* A new session in a free slot, or in place of the one unused the longest. */
static void session_new(struct console *c, const char *user, enum account_role role,
                        struct session *out)
{
    pthread_mutex_lock(&c->lock);
    struct session *slot = &c->sessions[0];
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        if (!c->sessions[i].id[0]) {
            slot = &c->sessions[i];
            break;
        }
        if (c->sessions[i].last_ms < slot->last_ms)
            slot = &c->sessions[i];
    }
    memset(slot, 0, sizeof(*slot));
    new_token(slot->id);
    new_token(slot->csrf);
    snprintf(slot->user, sizeof(slot->user), "%s", user);
    slot->role = role;
    slot->last_ms = now_ms();
    *out = *slot;
    pthread_mutex_unlock(&c->lock);
}

static void session_end(struct console *c, const char *id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SESSIONS_MAX; i++)
        if (c->sessions[i].id[0] && token_equal(c->sessions[i].id, id))
            memset(&c->sessions[i], 0, sizeof(c->sessions[i]));
    pthread_mutex_unlock(&c->lock);
}

/* The account still exists with this role: a removed account's sessions end with it. */
static bool account_current(struct console *c, const struct session *s)
{
    enum account_role role;
    return accounts_get(c->site.dir, s->user, &role) == DS_OK && role == s->role;
}

/* ---------------------------------------------------------------- pages: helpers */

const struct web_request *page_req(const struct page *pg)
{
    return pg->req;
}

const void *page_arg(const struct page *pg)
{
    return pg->con->site.arg;
}

const char *page_dir(const struct page *pg)
{
    return pg->con->site.dir;
}

const char *page_user(const struct page *pg)
{
    return pg->has_session ? pg->s.user : "";
}

bool page_is_operator(const struct page *pg)
{
    return pg->has_session && pg->s.role == ACCOUNT_OPERATOR;
}

bool page_en(const struct page *pg)
{
    return pg->en;
}

const char *page_t(const struct page *pg, const char *zh, const char *en)
{
    return pg->en ? en : zh;
}

struct buf *page_buf(struct page *pg)
{
    return &pg->body;
}

void page_text(struct page *pg, const char *s)
{
    buf_html(&pg->body, s);
}

void page_tt(struct page *pg, const char *zh, const char *en)
{
    buf_html(&pg->body, page_t(pg, zh, en));
}

void page_printf(struct page *pg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&pg->body, fmt, ap);
    va_end(ap);
}

void page_set_status(struct page *pg, int status)
{
    pg->status = status;
}

void page_header(struct page *pg, const char *name, const char *value)
{
    web_reply_header(pg->out, name, value);
}

void page_reply(struct page *pg, int status, const char *content_type, char *body, size_t len)
{
    buf_release(&pg->body);
    web_reply_body(pg->out, status, content_type, body, len);
    pg->raw = true;
}

void page_redirect(struct page *pg, const char *location)
{
    buf_release(&pg->body);
    web_reply_redirect(pg->out, location);
    pg->raw = true;
}

void page_form_begin(struct page *pg, const char *action, bool multipart)
{
    page_printf(pg, "<form method=\"post\" action=\"");
    page_text(pg, action);
    page_printf(pg, "\"%s><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
                multipart ? " enctype=\"multipart/form-data\"" : "",
                pg->has_session ? pg->s.csrf : "");
}

/* The current URL, for the language switch and the login's way back. */
static void self_url(struct page *pg, struct buf *b)
{
    buf_puts(b, web_path(pg->req));
    const char *keys[] = {"q", "filter", "page", "id", "cmd", "year", "member", "code", NULL};
    char sep = '?';
    for (size_t i = 0; keys[i]; i++) {
        const char *v = web_query(pg->req, keys[i]);
        if (!v)
            continue;
        buf_printf(b, "%c%s=", sep, keys[i]);
        buf_url(b, v);
        sep = '&';
    }
}

void page_begin(struct page *pg, const char *title_zh, const char *title_en)
{
    const struct console_site *site = &pg->con->site;
    struct buf here = BUF_INIT;
    self_url(pg, &here);
    page_printf(pg,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>",
                pg->en ? "en" : "zh-CN");
    page_tt(pg, title_zh, title_en);
    page_printf(pg, " · ");
    page_text(pg, site->org_name);
    page_printf(pg, "</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body>"
                    "<header class=\"top\"><div class=\"brand\"><span class=\"seal\">");
    page_tt(pg, "党", "P");
    page_printf(pg, "</span><span><b>");
    page_text(pg, site->org_name);
    page_printf(pg, "</b><small>");
    page_tt(pg, site->role_zh, site->role_en);
    page_printf(pg, " · ");
    page_text(pg, site->org_id);
    page_printf(pg, "</small></span></div><div class=\"who\">");
    page_printf(pg, "<a class=\"lang\" href=\"/lang?to=%s&amp;next=", pg->en ? "zh" : "en");
    buf_url(&pg->body, here.p);
    page_printf(pg, "\">%s</a>", pg->en ? "中文" : "English");
    if (pg->has_session) {
        page_printf(pg, "<span class=\"user\">");
        page_text(pg, pg->s.user);
        page_printf(pg, " <small>(");
        page_tt(pg, pg->s.role == ACCOUNT_OPERATOR ? "经办人" : "只读",
                account_role_name(pg->s.role));
        page_printf(pg, ")</small></span>");
        page_form_begin(pg, "/logout", false);
        page_printf(pg, "<button class=\"link\" type=\"submit\">");
        page_tt(pg, "退出", "Log out");
        page_printf(pg, "</button></form>");
    }
    page_printf(pg, "</div></header>");
    if (pg->has_session) {
        page_printf(pg, "<nav>");
        for (size_t i = 0; i < site->n_pages; i++) {
            const struct console_page *p = &site->pages[i];
            if (!p->nav)
                continue;
            page_printf(pg, "<a href=\"%s\"%s>", p->path,
                        strcmp(p->path, web_path(pg->req)) == 0 ? " class=\"on\"" : "");
            page_tt(pg, p->title_zh, p->title_en);
            page_printf(pg, "</a>");
        }
        page_printf(pg, "</nav>");
    }
    page_printf(pg, "<main><h1>");
    page_tt(pg, title_zh, title_en);
    page_printf(pg, "</h1>");
    buf_release(&here);
}

void page_end(struct page *pg)
{
    page_printf(pg, "</main><footer>dualsync · ");
    page_tt(pg, "党员双重管理信息同步", "dual management, synced");
    page_printf(pg, "</footer></body></html>");
}

void page_error(struct page *pg, int status, const char *zh, const char *en)
{
    buf_release(&pg->body);
    page_set_status(pg, status);
    page_begin(pg,
               status == 403   ? "无权操作"
               : status == 404 ? "未找到"
                               : "出错了",
               status == 403   ? "Not allowed"
               : status == 404 ? "Not found"
                               : "Something went wrong");
    page_printf(pg, "<p class=\"err\">");
    page_tt(pg, zh, en);
    page_printf(pg, "</p><p><a href=\"/\">");
    page_tt(pg, "返回首页", "Back to the start page");
    page_printf(pg, "</a></p>");
    page_end(pg);
}

/* ---------------------------------------------------------------- control calls */

void page_ctl(struct page *pg, const struct ctl_request *req, struct page_answer *out)
{
    Dualsync__CtlReply *r = NULL;
    memset(out, 0, sizeof(*out));
    out->rc = ctl_call(pg->con->site.dir, req, CTL_TIMEOUT_MS, &r);
    if (out->rc != DS_OK) {
        snprintf(out->zh, sizeof(out->zh), "%s",
                 out->rc == DS_ENOTRUNNING ? "守护进程未运行" : "守护进程没有应答");
        snprintf(out->en, sizeof(out->en), "%s",
                 out->rc == DS_ENOTRUNNING ? "the daemon is not running"
                                           : "the daemon did not answer");
        return;
    }
    if (r->code != 0) {
        out->rc = r->code < 0 ? r->code : DS_EINVAL;
        snprintf(out->zh, sizeof(out->zh), "%s", r->error_zh ? r->error_zh : "");
        snprintf(out->en, sizeof(out->en), "%s", r->error_en ? r->error_en : "");
    } else if (r->json && r->json[0]) {
        out->result = json_loads(r->json, JSON_DECODE_ANY, NULL);
    }
    wire_msg_free(r);
}

void page_ctl_simple(struct page *pg, const char *cmd, struct page_answer *out, ...)
{
    struct ctl_request *req = ctl_request_new();
    va_list ap;
    ctl_request_command(req, cmd);
    va_start(ap, out);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
        const char *v = va_arg(ap, const char *);
        if (v)
            ctl_request_arg(req, k, v);
    }
    va_end(ap);
    page_ctl(pg, req, out);
    ctl_request_destroy(&req);
}

void page_answer_release(struct page_answer *a)
{
    json_decref(a->result);
    a->result = NULL;
}

void page_audit(struct page *pg, const char *action, const char *target, const char *outcome)
{
    if (audit_append(pg->con->site.dir, page_user(pg), action, target ? target : "",
                     outcome ? outcome : "") != DS_OK)
        log_error("console: cannot write the audit log user=%s action=%s", page_user(pg), action);
}

/* ---------------------------------------------------------------- built-in pages */

static void set_cookie(struct page *pg, const char *name, const char *value, bool session_cookie)
{
    char line[256];
    snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
             web_is_tls(pg->req) ? "; Secure" : "",
             session_cookie && !value[0] ? "; Max-Age=0" : "");
    web_reply_header(pg->out, "Set-Cookie", line);
}

/* Only a path of this site: "/x", never "//host" or a scheme. */
static const char *safe_next(const char *next)
{
    return next && next[0] == '/' && next[1] != '/' && next[1] != '\\' ? next : "/";
}

static bool token_shaped(const char *t)
{
    if (!t || strlen(t) != TOKEN_HEX - 1)
        return false;
    for (; *t; t++)
        if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
            return false;
    return true;
}

static void login_form(struct page *pg, const char *message, const char *name)
{
    /* One token per browser, kept across loads of the login page: a browser loads other
     * things beside the page (its icon), and a new token each time would void the form
     * that is already open. */
    char token[TOKEN_HEX];
    const char *had = web_cookie(pg->req, COOKIE_PRELOGIN);
    if (token_shaped(had))
        snprintf(token, sizeof(token), "%s", had);
    else
        new_token(token);
    set_cookie(pg, COOKIE_PRELOGIN, token, false);
    page_begin(pg, "登录", "Log in");
    if (message)
        page_printf(pg, "<p class=\"err\" role=\"alert\">%s</p>", message);
    page_printf(pg,
                "<form method=\"post\" action=\"/login\" class=\"card narrow\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                "<input type=\"hidden\" name=\"next\" value=\"",
                token);
    page_text(pg, safe_next(web_query(pg->req, "next") ? web_query(pg->req, "next")
                                                       : web_form(pg->req, "next")));
    page_printf(pg, "\"><label>");
    page_tt(pg, "用户名", "Account");
    page_printf(pg, "<input name=\"name\" autocomplete=\"username\" required value=\"");
    page_text(pg, name ? name : "");
    page_printf(pg, "\"></label><label>");
    page_tt(pg, "密码", "Password");
    page_printf(pg, "<input name=\"password\" type=\"password\" autocomplete=\"current-password\" "
                    "required></label><button type=\"submit\">");
    page_tt(pg, "登录", "Log in");
    page_printf(pg, "</button></form><p class=\"hint\">");
    page_tt(pg, "账户由管理员在服务器上用 user add 命令创建。",
            "Accounts are created on the server with the user add command.");
    page_printf(pg, "</p>");
    page_end(pg);
}

static void do_login(struct page *pg)
{
    const char *name = web_form(pg->req, "name"), *pw = web_form(pg->req, "password");
    if (!token_equal(web_form(pg->req, "csrf"), web_cookie(pg->req, COOKIE_PRELOGIN))) {
        log_warn("console: login form without its token (expired or from elsewhere)");
        page_set_status(pg, 403);
        login_form(pg, page_t(pg, "表单已过期，请重新登录。", "The form expired; log in again."),
                   name);
        return;
    }
    enum account_role role = ACCOUNT_VIEWER;
    uint64_t retry = 0;
    int rc = name && pw ? accounts_login(pg->con->guard, pg->con->site.dir, name, pw, now_ms(),
                                         &role, &retry)
                        : DS_EAUTH;
    if (rc == DS_OK) {
        session_new(pg->con, name, role, &pg->s);
        pg->has_session = true;
        set_cookie(pg, COOKIE_SESSION, pg->s.id, true);
        page_audit(pg, "login", "", "ok");
        page_redirect(pg, safe_next(web_form(pg->req, "next")));
        return;
    }
    char msg[256];
    if (rc == DS_EAGAIN) {
        page_set_status(pg, 429);
        snprintf(msg, sizeof(msg), "%s %llu %s",
                 page_t(pg, "登录失败次数过多，账户已锁定，请在",
                        "Too many failed logins: the "
                        "account is locked; try again in"),
                 (unsigned long long)((retry + 999) / 1000), page_t(pg, "秒后再试。", "s."));
    } else {
        page_set_status(pg, 401);
        snprintf(msg, sizeof(msg), "%s",
                 page_t(pg, "用户名或密码错误。", "Wrong account name or password."));
    }
    bool named = name && account_name_valid(name);
    if (named && audit_append(pg->con->site.dir, name, "login", "",
                              rc == DS_EAGAIN ? "locked" : "failed") != DS_OK)
        log_error("console: cannot write the audit log");
    log_warn("console: login failed user=\"%s\" rc=%s", named ? name : "?", ds_errname(rc));
    struct buf escaped = BUF_INIT;
    buf_html(&escaped, msg);
    login_form(pg, escaped.p, name);
    buf_release(&escaped);
}

static void do_logout(struct page *pg)
{
    page_audit(pg, "logout", "", "ok");
    session_end(pg->con, pg->s.id);
    set_cookie(pg, COOKIE_SESSION, "", true);
    page_redirect(pg, "/login");
}

static void do_lang(struct page *pg)
{
    const char *to = web_query(pg->req, "to");
    set_cookie(pg, COOKIE_LANG, to && strcmp(to, "en") == 0 ? "en" : "zh", false);
    page_redirect(pg, safe_next(web_query(pg->req, "next")));
}

static void do_healthz(struct page *pg)
{
    struct ctl_request *req = ctl_request_new();
    Dualsync__CtlReply *r = NULL;
    ctl_request_command(req, "status");
    int rc = ctl_call(pg->con->site.dir, req, HEALTH_TIMEOUT_MS, &r);
    ctl_request_destroy(&req);
    bool ok = rc == DS_OK && r->code == 0;
    wire_msg_free(r);
    page_reply(pg, ok ? 200 : 503, "text/plain; charset=utf-8",
               xstrdup(ok ? "ok\n" : "loop not answering\n"), ok ? 3 : 19);
}

static void security_headers(struct page *pg)
{
    web_reply_header(pg->out, "Content-Security-Policy",
                     "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    web_reply_header(pg->out, "X-Frame-Options", "DENY");
    web_reply_header(pg->out, "X-Content-Type-Options", "nosniff");
    web_reply_header(pg->out, "Referrer-Policy", "no-referrer");
    web_reply_header(pg->out, "Cache-Control", "no-store");
}

static const struct console_page *find_page(const struct console *c, const char *path)
{
    for (size_t i = 0; i < c->site.n_pages; i++)
        if (strcmp(c->site.pages[i].path, path) == 0)
            return &c->site.pages[i];
    return NULL;
}

/* Pages that need no session. true when path was one of them (and answered). */
static bool public_page(struct page *pg, const char *path, bool post)
{
    if (strcmp(path, "/static/app.css") == 0) {
        page_reply(pg, 200, "text/css; charset=utf-8", xmemdup(pg->con->css, pg->con->css_len + 1),
                   pg->con->css_len);
    } else if (strcmp(path, "/favicon.ico") == 0) {
        page_reply(pg, 404, "text/plain; charset=utf-8", xstrdup("no icon\n"), 8);
    } else if (strcmp(path, "/healthz") == 0) {
        do_healthz(pg);
    } else if (strcmp(path, "/lang") == 0) {
        do_lang(pg);
    } else if (strcmp(path, "/login") == 0) {
        if (post)
            do_login(pg);
        else
            login_form(pg, NULL, NULL);
    } else if (strcmp(path, "/metrics") == 0 && web_peer_loopback(pg->req)) {
        if (pg->con->site.metrics)
            pg->con->site.metrics(pg);
        else
            page_error(pg, 404, "没有指标", "no metrics");
    } else {
        return false;
    }
    return true;
}

static void dispatch(struct page *pg)
{
    const char *path = web_path(pg->req);
    bool post = strcmp(web_method(pg->req), "POST") == 0;
    if (public_page(pg, path, post))
        return;
    if (!pg->has_session) {
        struct buf loc = BUF_INIT;
        buf_puts(&loc, "/login?next=");
        struct buf here = BUF_INIT;
        self_url(pg, &here);
        buf_url(&loc, here.p);
        page_redirect(pg, loc.p);
        buf_release(&here);
        buf_release(&loc);
        return;
    }
    if (post && !token_equal(web_form(pg->req, "csrf"), pg->s.csrf)) {
        log_warn("console: POST without a valid CSRF token user=%s path=%s", pg->s.user, path);
        page_error(pg, 403, "表单已过期或来源不明，请刷新页面后重试。",
                   "The form expired or did not come from this console; reload and try again.");
        return;
    }
    if (strcmp(path, "/logout") == 0 && post) {
        do_logout(pg);
        return;
    }
    if (strcmp(path, "/metrics") == 0 && pg->con->site.metrics) {
        pg->con->site.metrics(pg);
        return;
    }
    const struct console_page *p = find_page(pg->con, path);
    page_fn fn = p ? (post ? p->post : p->get) : NULL;
    if (!p) {
        page_error(pg, 404, "没有这个页面。", "There is no such page.");
    } else if (!fn) {
        page_error(pg, 405, "不支持这种请求。", "Method not allowed.");
    } else if (post && p->post_write && pg->s.role != ACCOUNT_OPERATOR) {
        log_warn("console: write refused for viewer user=%s path=%s", pg->s.user, path);
        page_audit(pg, path, "", "refused: viewer");
        page_error(pg, 403, "只读账户不能办理，请使用经办人账户。",
                   "A viewer account cannot write; use an operator account.");
    } else {
        fn(pg);
    }
}

static void on_request(void *arg, const struct web_request *req, struct web_reply *out)
{
    struct page pg = {.con = arg, .req = req, .out = out, .status = 200};
    const char *lang = web_cookie(req, COOKIE_LANG);
    pg.en = lang && strcmp(lang, "en") == 0;
    pg.has_session = session_find(pg.con, web_cookie(req, COOKIE_SESSION), &pg.s);
    if (pg.has_session && !account_current(pg.con, &pg.s)) {
        session_end(pg.con, pg.s.id); /* the account was removed or its role changed */
        pg.has_session = false;
    }
    security_headers(&pg);
    dispatch(&pg);
    if (!pg.raw) {
        size_t len = 0;
        char *body = buf_take(&pg.body, &len);
        web_reply_body(out, pg.status, "text/html; charset=utf-8", body, len);
    }
}

/* The metrics address answers /metrics and /healthz to anyone who reaches it (no login:
 * a scraper has none), and nothing else. */
static void on_metrics_request(void *arg, const struct web_request *req, struct web_reply *out)
{
    struct page pg = {.con = arg, .req = req, .out = out, .status = 200};
    const char *path = web_path(req);
    security_headers(&pg);
    if (strcmp(path, "/metrics") == 0 && pg.con->site.metrics)
        pg.con->site.metrics(&pg);
    else if (strcmp(path, "/healthz") == 0)
        do_healthz(&pg);
    else
        page_reply(&pg, 404, "text/plain; charset=utf-8", xstrdup("not found\n"), 10);
    if (!pg.raw) {
        size_t len = 0;
        char *body = buf_take(&pg.body, &len);
        web_reply_body(out, pg.status, "text/plain; charset=utf-8", body, len);
    }
}

static int start_metrics(struct console *c, const struct web_config *w)
{
    char err[WEB_ERR_MAX] = "";
    struct web_options o = {w->metrics_bind, NULL, NULL};
    if (!w->metrics_bind[0])
        return DS_OK;
    int rc = web_server_start(&o, on_metrics_request, c, &c->metrics_server, err);
    if (rc != DS_OK)
        fprintf(stderr, "错误: 无法在 %s 提供指标\nerror: %s\n", w->metrics_bind, err);
    else
        log_info("console: metrics on http://%s/metrics", w->metrics_bind);
    return rc;
}

/* ---------------------------------------------------------------- start and stop */

static char *read_pem(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read %s", path);
        return NULL;
    }
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 1u << 20)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_take(&b, NULL);
}

static int check_plaintext(const struct web_config *w)
{
    bool tls = w->cert[0] && w->key[0];
    if (tls || w->allow_plaintext || web_bind_is_loopback(w->bind))
        return DS_OK;
    fprintf(stderr,
            "错误: 控制台地址 %s 不是本机回环地址，必须配置 TLS([web] cert 与 key)，"
            "或明确设置 allow_plaintext = yes\n"
            "error: the console address %s is not loopback: set [web] cert and key for HTTPS, "
            "or allow_plaintext = yes to serve plain HTTP anyway\n",
            w->bind, w->bind);
    return DS_EINVAL;
}

int console_start(const struct web_config *w, const struct console_site *site,
                  struct console **console_out)
{
    *console_out = NULL;
    if (!w->bind[0])
        return DS_OK;
    if ((w->cert[0] != 0) != (w->key[0] != 0)) {
        fprintf(stderr, "错误: [web] cert 与 key 须同时设置\n"
                        "error: [web] cert and key must be set together\n");
        return DS_EINVAL;
    }
    int rc = check_plaintext(w);
    if (rc != DS_OK)
        return rc;
    char err[WEB_ERR_MAX] = "";
    char *cert = NULL, *key = NULL;
    if (w->cert[0]) {
        cert = read_pem(w->cert, err, sizeof(err));
        key = cert ? read_pem(w->key, err, sizeof(err)) : NULL;
        if (!key) {
            fprintf(stderr, "错误: 无法读取 TLS 证书或私钥\nerror: %s\n", err);
            free(cert);
            return DS_EINVAL;
        }
    }
    struct console *c = xcalloc(1, sizeof(*c));
    c->site = *site;
    c->w = *w;
    c->guard = accounts_guard_new();
    pthread_mutex_init(&c->lock, NULL);
    struct buf css = BUF_INIT;
    for (size_t i = 0; console_css_parts[i]; i++)
        buf_puts(&css, console_css_parts[i]);
    c->css = buf_take(&css, &c->css_len);
    struct web_options o = {w->bind, cert, key};
    bool tls = cert != NULL;
    rc = web_server_start(&o, on_request, c, &c->server, err);
    if (key)
        sodium_memzero(key, strlen(key));
    free(cert);
    free(key);
    if (rc != DS_OK) {
        fprintf(stderr, "错误: 无法启动网页控制台 %s\nerror: %s\n", w->bind, err);
        console_stop(&c);
        return rc;
    }
    rc = start_metrics(c, w);
    if (rc != DS_OK) {
        console_stop(&c);
        return rc;
    }
    log_info("console: serving %s://%s", tls ? "https" : "http", w->bind);
    *console_out = c;
    return DS_OK;
}

void console_stop(struct console **cp)
{
    struct console *c = *cp;
    if (!c)
        return;
    web_server_stop(&c->metrics_server);
    web_server_stop(&c->server);
    accounts_guard_destroy(&c->guard);
    pthread_mutex_destroy(&c->lock);
    free(c->css);
    sodium_memzero(c->sessions, sizeof(c->sessions));
    free(c);
    *cp = NULL;
}

/* ---------------------------------------------------------------- the audit page */

static const char *json_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

void console_page_audit(struct page *pg)
{
    json_t *list = NULL, *e;
    size_t i, skipped = 0;
    page_begin(pg, "审计记录", "Audit log");
    if (audit_list(page_dir(pg), 500, &list, &skipped) != DS_OK) {
        page_printf(pg, "<p class=\"err\">");
        page_tt(pg, "无法读取审计记录。", "Cannot read the audit log.");
        page_printf(pg, "</p>");
        page_end(pg);
        return;
    }
    page_printf(pg,
                "<table class=\"list\" id=\"audit\"><thead><tr><th>%s</th><th>%s</th><th>%s"
                "</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                page_t(pg, "时间", "Time"), page_t(pg, "账户", "Account"),
                page_t(pg, "操作", "Action"), page_t(pg, "对象", "Target"),
                page_t(pg, "结果", "Outcome"));
    for (i = json_array_size(list); i-- > 0;) {
        e = json_array_get(list, i);
        page_printf(pg, "<tr><td>");
        page_text(pg, json_str(e, "ts"));
        page_printf(pg, "</td><td>");
        page_text(pg, json_str(e, "user"));
        page_printf(pg, "</td><td>");
        page_text(pg, json_str(e, "action"));
        page_printf(pg, "</td><td>");
        page_text(pg, json_str(e, "target"));
        page_printf(pg, "</td><td>");
        page_text(pg, json_str(e, "outcome"));
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table>");
    if (skipped) {
        page_printf(pg, "<p class=\"hint\">%zu ", skipped);
        page_tt(pg, "行无法解析,已跳过。", "lines could not be read and were skipped.");
        page_printf(pg, "</p>");
    }
    json_decref(list);
    page_end(pg);
}

/* ---------------------------------------------------------------- /metrics */

void console_metric(struct buf *b, const char *name, const char *type, const char *help,
                    long long value)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name, value);
}

void console_metrics_log(struct buf *b, const char *prefix, json_t *status)
{
    json_t *commits = json_object_get(status, "commits"), *store = json_object_get(status, "store");
    json_t *bucket;
    size_t i;
    if (json_is_object(commits)) {
        buf_printf(b,
                   "# HELP %s_commit_seconds time to commit one transaction of the event log "
                   "(folds and fsync included)\n# TYPE %s_commit_seconds histogram\n",
                   prefix, prefix);
        json_array_foreach(json_object_get(commits, "buckets"), i, bucket)
        {
            buf_printf(b, "%s_commit_seconds_bucket{le=\"%.6g\"} %lld\n", prefix,
                       json_number_value(json_array_get(bucket, 0)) / 1000.0,
                       (long long)json_integer_value(json_array_get(bucket, 1)));
        }
        long long count = (long long)json_integer_value(json_object_get(commits, "count"));
        buf_printf(b, "%s_commit_seconds_bucket{le=\"+Inf\"} %lld\n", prefix, count);
        buf_printf(b, "%s_commit_seconds_sum %.9g\n", prefix,
                   json_number_value(json_object_get(commits, "sum_ms")) / 1000.0);
        buf_printf(b, "%s_commit_seconds_count %lld\n", prefix, count);
    }
    if (json_is_object(store)) {
        buf_printf(b,
                   "# HELP %s_store_sst_bytes size of the RocksDB SST files\n"
                   "# TYPE %s_store_sst_bytes gauge\n%s_store_sst_bytes %lld\n",
                   prefix, prefix, prefix,
                   (long long)json_integer_value(json_object_get(store, "sst_bytes")));
        buf_printf(b,
                   "# HELP %s_store_memtable_bytes size of the RocksDB memtables\n"
                   "# TYPE %s_store_memtable_bytes gauge\n%s_store_memtable_bytes %lld\n",
                   prefix, prefix, prefix,
                   (long long)json_integer_value(json_object_get(store, "memtable_bytes")));
    }
}
