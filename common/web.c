/* web: see web.h. libmicrohttpd runs a pool of WEB_THREADS threads that each poll their
 * own share of the connections; a request's handler runs on the thread that read it, once
 * the whole body is in. A POST body is parsed by MHD's post processor into fields (their
 * pieces appended as they arrive), bounded by WEB_BODY_MAX so a client cannot make us
 * hold more. Nothing here is shared between requests, so no lock is needed. */
#include "web.h"

#include "buf.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define WEB_POST_BUFFER 16384
#define WEB_CONN_LIMIT 128
#define WEB_CONN_TIMEOUT_S 60

struct web_server {
    struct MHD_Daemon *d;
    web_handler_fn fn;
    void *arg;
    bool tls;
};

struct field {
    char *name;
    char *filename; /* NULL unless an uploaded file */
    struct buf value;
};

struct web_request {
    struct web_server *s;
    struct MHD_Connection *c;
    const char *method;
    const char *path;
    struct MHD_PostProcessor *pp;
    struct field *fields;
    size_t n_fields, cap_fields;
    size_t body_bytes;
    bool too_big;
    bool bad_body; /* a body MHD could not parse (or of a type it does not know) */
};

/* ---------------------------------------------------------------- addresses */

int web_parse_bind(const char *bind, char *host_out, size_t host_size, uint16_t *port_out)
{
    const char *colon = strrchr(bind, ':');
    if (!colon || colon == bind)
        return DS_EINVAL;
    const char *host = bind;
    size_t host_len = (size_t)(colon - bind);
    if (bind[0] == '[') { /* [v6]:port */
        if (colon[-1] != ']')
            return DS_EINVAL;
        host++;
        host_len -= 2;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535 || host_len == 0 || host_len >= host_size)
        return DS_EINVAL;
    memcpy(host_out, host, host_len);
    host_out[host_len] = '\0';
    *port_out = (uint16_t)port;
    return DS_OK;
}

bool web_bind_is_loopback(const char *bind)
{
    char host[128];
    uint16_t port;
    struct in_addr a4;
    if (web_parse_bind(bind, host, sizeof(host), &port) != DS_OK)
        return false;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return true;
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* ---------------------------------------------------------------- requests */

static struct field *field_for(struct web_request *r, const char *name, const char *filename,
                               uint64_t off)
{
    /* MHD hands a long value over in pieces, the first at offset 0. */
    if (off > 0 && r->n_fields && strcmp(r->fields[r->n_fields - 1].name, name) == 0)
        return &r->fields[r->n_fields - 1];
    if (r->n_fields == r->cap_fields) {
        r->cap_fields = r->cap_fields ? 2 * r->cap_fields : 16;
        r->fields = xrealloc(r->fields, r->cap_fields * sizeof(*r->fields));
    }
    struct field *f = &r->fields[r->n_fields++];
    memset(f, 0, sizeof(*f));
    f->name = xstrdup(name);
    f->filename = filename ? xstrdup(filename) : NULL;
    buf_append(&f->value, "", 0);
    return f;
}

static enum MHD_Result on_post_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data, uint64_t off,
                                     size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    struct web_request *r = cls;
    if (!key)
        return MHD_YES;
    buf_append(&field_for(r, key, filename, off)->value, data, size);
    return MHD_YES;
}

static void request_free(struct web_request *r)
{
    if (!r)
        return;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    for (size_t i = 0; i < r->n_fields; i++) {
        free(r->fields[i].name);
        free(r->fields[i].filename);
        buf_release(&r->fields[i].value);
    }
    free(r->fields);
    free(r);
}

static const struct field *find_field(const struct web_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return &r->fields[i];
    return NULL;
}

const char *web_method(const struct web_request *r)
{
    return r->method;
}

const char *web_path(const struct web_request *r)
{
    return r->path;
}

const char *web_query(const struct web_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_form(const struct web_request *r, const char *name)
{
    const struct field *f = find_field(r, name);
    return f ? f->value.p : NULL;
}

const char *web_form_file(const struct web_request *r, const char *name, size_t *len_out,
                          const char **filename_out)
{
    const struct field *f = find_field(r, name);
    if (!f)
        return NULL;
    if (len_out)
        *len_out = f->value.len;
    if (filename_out)
        *filename_out = f->filename;
    return f->value.p;
}

void web_form_each(const struct web_request *r,
                   bool (*fn)(const char *name, const char *value, void *arg), void *arg)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (!fn(r->fields[i].name, r->fields[i].value.p, arg))
            return;
}

const char *web_cookie(const struct web_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, name);
}

const char *web_header(const struct web_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

bool web_peer_loopback(const struct web_request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

bool web_is_tls(const struct web_request *r)
{
    return r->s->tls;
}

/* ---------------------------------------------------------------- replies */

void web_reply_header(struct web_reply *out, const char *name, const char *value)
{
    struct buf b = BUF_INIT;
    if (out->headers)
        buf_puts(&b, out->headers);
    buf_printf(&b, "%s: %s\n", name, value);
    free(out->headers);
    out->headers = buf_take(&b, NULL);
}

void web_reply_body(struct web_reply *out, int status, const char *content_type, char *body,
                    size_t len)
{
    free(out->body);
    out->status = status;
    out->content_type = content_type;
    out->body = body;
    out->len = len;
}

void web_reply_redirect(struct web_reply *out, const char *location)
{
    web_reply_header(out, "Location", location);
    web_reply_body(out, 303, "text/plain; charset=utf-8", xstrdup("see other\n"), 10);
}

static void add_headers(struct MHD_Response *resp, char *headers)
{
    for (char *save = NULL, *line = headers ? strtok_r(headers, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strstr(line, ": ");
        if (!colon)
            continue;
        *colon = '\0';
        MHD_add_response_header(resp, line, colon + 2);
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct web_reply *out)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out->len, out->body ? out->body : (char *)"",
                                        out->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    out->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out->content_type ? out->content_type : "text/html; charset=utf-8");
    add_headers(resp, out->headers);
    free(out->headers);
    out->headers = NULL;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)(out->status ? out->status : 200), resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_plain(struct MHD_Connection *c, int status, const char *text)
{
    struct web_reply out = {0};
    web_reply_body(&out, status, "text/plain; charset=utf-8", xstrdup(text), strlen(text));
    return send_reply(c, &out);
}

/* ---------------------------------------------------------------- the server */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct web_server *s = cls;
    struct web_request *r = *con_cls;
    if (!r) { /* headers are in; the body (if any) comes in the next calls */
        r = xcalloc(1, sizeof(*r));
        r->s = s;
        r->c = c;
        r->method = method;
        r->path = url;
        if (strcmp(method, "POST") == 0) {
            r->pp = MHD_create_post_processor(c, WEB_POST_BUFFER, on_post_field, r);
            /* A POST with no body at all is a form with no fields; another body type
             * is refused when it arrives. */
        }
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        r->body_bytes += *upload_data_size;
        if (r->body_bytes > WEB_BODY_MAX)
            r->too_big = true;
        else if (!r->pp || MHD_post_process(r->pp, upload_data, *upload_data_size) != MHD_YES)
            r->bad_body = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_big)
        return send_plain(c, 413, "request body too large / 请求内容过大\n");
    if (r->bad_body)
        return send_plain(c, 400, "bad request body / 请求内容无法解析\n");
    struct web_reply out = {0};
    s->fn(s->arg, r, &out);
    return send_reply(c, &out);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    request_free(*con_cls);
    *con_cls = NULL;
}

/* MHD's messages, as our log lines (its format strings are its own). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("web: %s", line);
}

/* The socket address of a bind "HOST:PORT" (numeric hosts, or localhost). */
static int bind_addr(const char *bind, struct sockaddr_storage *ss, bool *v6_out)
{
    char host[128];
    uint16_t port;
    if (web_parse_bind(bind, host, sizeof(host), &port) != DS_OK)
        return DS_EINVAL;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *v6_out = false;
        return DS_OK;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *v6_out = true;
        return DS_OK;
    }
    return DS_EINVAL;
}

int web_server_start(const struct web_options *o, web_handler_fn fn, void *arg,
                     struct web_server **server_out, char *err)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (bind_addr(o->bind, &ss, &v6) != DS_OK) {
        snprintf(err, WEB_ERR_MAX, "bad web bind address '%.200s' (use HOST:PORT, numeric)",
                 o->bind);
        return DS_EINVAL;
    }
    struct web_server *s = xcalloc(1, sizeof(*s));
    s->fn = fn;
    s->arg = arg;
    s->tls = o->cert_pem && o->key_pem;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (s->tls)
        flags |= MHD_USE_TLS;
    uint16_t port = ntohs(v6 ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
                             : ((struct sockaddr_in *)(void *)&ss)->sin_port);
    /* The logger first (MHD wants it before the options it may complain about); the TLS
     * options only when TLS is on, since MHD refuses them otherwise. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_THREAD_POOL_SIZE, WEB_THREADS, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, WEB_CONN_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, WEB_CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {s->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)o->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, WEB_ERR_MAX,
                 "cannot serve the console on %.200s (address in use, not ours, or bad TLS "
                 "certificate/key)",
                 o->bind);
        free(s);
        return DS_EIO;
    }
    *server_out = s;
    return DS_OK;
}

uint16_t web_server_port(const struct web_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void web_server_stop(struct web_server **sp)
{
    struct web_server *s = *sp;
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
    *sp = NULL;
}
