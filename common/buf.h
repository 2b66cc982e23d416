/* buf: a growable byte string for text built piece by piece (HTML pages, metrics, CSV).
 * Always NUL-terminated after the first append, so buf.p can be used as a C string.
 * Memory comes from xalloc: appends cannot fail. Not thread-safe; one owner. */
#ifndef DUALSYNC_BUF_H
#define DUALSYNC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *p; /* NULL until the first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s with & < > " ' escaped, so it is safe as HTML text and inside a quoted
 * attribute value. The one escaping function of the consoles. NULL appends nothing. */
void buf_html(struct buf *b, const char *s);
/* Appends s as a JSON string: quoted, with " \\ and control characters escaped as jansson
 * escapes them (UTF-8 passes as it is), for replies written without building jansson
 * objects. s must be valid UTF-8 (every text the daemons store is). NULL appends null. */
void buf_json_str(struct buf *b, const char *s);
/* Appends s percent-encoded for a URL query value (RFC 3986 unreserved kept). */
void buf_url(struct buf *b, const char *s);
/* Appends what fd holds, up to its end and at most max bytes: DS_OK, DS_EINVAL when
 * there is more than max (what was read stays in b), DS_EIO on a read error. */
int buf_read_fd(struct buf *b, int fd, size_t max);
/* Hands the contents over (caller frees; "" for an empty buf) and empties b. */
char *buf_take(struct buf *b, size_t *len_out);
void buf_release(struct buf *b);

#endif
