/* web: an HTTP(S) server on threads of its own, the only user of libmicrohttpd.
 * The daemon's loop never runs here: a handler is called on one of the server's threads
 * with a whole request (a POST body already parsed into fields, uploads included) and
 * fills in a reply. Handlers must therefore touch no state of the loop; the consoles
 * reach their daemon through its control socket, exactly as the CLI does.
 * Bind addresses are "HOST:PORT" ("127.0.0.1:8380", "[::1]:8380", "0.0.0.0:8380").
 * Thread-safety: the handler runs on up to WEB_THREADS threads at once. */
#ifndef DUALSYNC_WEB_H
#define DUALSYNC_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_THREADS 2
/* A request body above this is refused (413): the largest upload is a roster CSV. */
#define WEB_BODY_MAX ((size_t)16 << 20)
#define WEB_ERR_MAX 512

struct web_request; /* borrowed for the duration of a handler call */

struct web_reply {
    int status;               /* 200 unless set */
    const char *content_type; /* static string; "text/html; charset=utf-8" unless set */
    char *body;               /* malloc'd, taken by the server; may be NULL */
    size_t len;
    char *headers; /* "Name: value\n" lines, malloc'd (web_reply_header), taken */
};

typedef void (*web_handler_fn)(void *arg, const struct web_request *req, struct web_reply *out);

struct web_options {
    const char *bind;     /* HOST:PORT */
    const char *cert_pem; /* both set: HTTPS; the PEM texts, not paths */
    const char *key_pem;
};

struct web_server;

/* Parses a bind address into its host and port. DS_OK, or DS_EINVAL. */
int web_parse_bind(const char *bind, char *host_out, size_t host_size, uint16_t *port_out);
/* True when bind names a loopback address (127.0.0.0/8, ::1, localhost). */
bool web_bind_is_loopback(const char *bind);

/* Starts serving. DS_OK with *server_out (web_server_stop); DS_EINVAL (a bad address or
 * TLS material) or DS_EIO (cannot bind), with the reason in err (WEB_ERR_MAX). */
int web_server_start(const struct web_options *o, web_handler_fn fn, void *arg,
                     struct web_server **server_out, char *err);
/* The port actually bound (for a bind with port 0). */
uint16_t web_server_port(const struct web_server *s);
/* Stops the threads (after the requests in progress) and frees. NULL-safe. */
void web_server_stop(struct web_server **sp);

/* ---- the request, inside a handler */
const char *web_method(const struct web_request *r); /* "GET", "POST", ... */
const char *web_path(const struct web_request *r);   /* without the query */
/* A query-string argument, NULL when absent. */
const char *web_query(const struct web_request *r, const char *name);
/* A POST field (urlencoded or multipart), NULL when absent. For a file field its bytes
 * (NUL-terminated; *len_out may be NULL) and its file name in *filename_out (may be NULL). */
const char *web_form(const struct web_request *r, const char *name);
const char *web_form_file(const struct web_request *r, const char *name, size_t *len_out,
                          const char **filename_out);
/* Calls fn for every POST field in arrival order, until it returns false. */
void web_form_each(const struct web_request *r,
                   bool (*fn)(const char *name, const char *value, void *arg), void *arg);
const char *web_cookie(const struct web_request *r, const char *name);
const char *web_header(const struct web_request *r, const char *name);
/* The client connected from a loopback address. */
bool web_peer_loopback(const struct web_request *r);
/* The connection is HTTPS. */
bool web_is_tls(const struct web_request *r);

/* ---- the reply */
/* Adds a response header (copied). */
void web_reply_header(struct web_reply *out, const char *name, const char *value);
/* Sets the body (taken; malloc'd) with its status and type. */
void web_reply_body(struct web_reply *out, int status, const char *content_type, char *body,
                    size_t len);
/* A 303 redirect to location. */
void web_reply_redirect(struct web_reply *out, const char *location);

#endif
