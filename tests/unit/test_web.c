/* Unit tests of the HTTP server (common/web.c) and the text builder (common/buf.c): a real
 * server on 127.0.0.1 (port 0: the kernel picks), driven by raw HTTP/1.1 requests over a
 * socket, with a handler that echoes what it was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "testutil.h"
#include "web.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Answers with what the request held, one "key=value" line each. */
static void echo(void *arg, const struct web_request *r, struct web_reply *out)
{
    (void)arg;
    struct buf b = BUF_INIT;
    const char *fname = NULL;
    size_t flen = 0;
    const char *file = web_form_file(r, "file", &flen, &fname);
    buf_printf(&b, "method=%s\npath=%s\n", web_method(r), web_path(r));
    buf_printf(&b, "q=%s\n", web_query(r, "q") ? web_query(r, "q") : "(none)");
    buf_printf(&b, "cookie=%s\n", web_cookie(r, "ds_session") ? web_cookie(r, "ds_session") : "");
    buf_printf(&b, "name=%s\n", web_form(r, "name") ? web_form(r, "name") : "(none)");
    buf_printf(&b, "file=%zu:%s:%s\n", flen, fname ? fname : "", file ? file : "");
    buf_printf(&b, "loopback=%d\n", web_peer_loopback(r));
    web_reply_header(out, "X-Test", "yes");
    size_t len = 0;
    char *body = buf_take(&b, &len);
    web_reply_body(out, 200, "text/plain", body, len);
}

/* Sends raw to the server and returns the whole answer (malloc'd). */
static char *roundtrip(uint16_t port, const char *raw)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t len = strlen(raw);
    assert_int_equal(write(fd, raw, len), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    struct buf b = BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(&b, chunk, (size_t)n);
    close(fd);
    return buf_take(&b, NULL);
}

static struct web_server *start(void)
{
    struct web_server *s = NULL;
    char err[WEB_ERR_MAX];
    struct web_options o = {"127.0.0.1:0", NULL, NULL};
    assert_int_equal(web_server_start(&o, echo, NULL, &s, err), DS_OK);
    assert_true(web_server_port(s) > 0);
    return s;
}

static void test_web_get_query_cookie(void **state)
{
    (void)state;
    struct web_server *s = start();
    char *r = roundtrip(web_server_port(s),
                        "GET /members?q=%E5%BC%A0&page=2 HTTP/1.1\r\nHost: x\r\n"
                        "Cookie: ds_lang=en; ds_session=abc\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "X-Test: yes"));
    assert_non_null(strstr(r, "path=/members\n"));
    assert_non_null(strstr(r, "q=\xe5\xbc\xa0\n")); /* decoded UTF-8 */
    assert_non_null(strstr(r, "cookie=abc\n"));
    assert_non_null(strstr(r, "loopback=1\n"));
    free(r);
    web_server_stop(&s);
    web_server_stop(&s); /* NULL-safe */
}

/* A POST of body with its type (Content-Length computed). */
static char *post(uint16_t port, const char *path, const char *type, const char *body)
{
    struct buf raw = BUF_INIT;
    buf_printf(&raw,
               "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: %s\r\n"
               "Content-Length: %zu\r\n\r\n%s",
               path, type, strlen(body), body);
    char *r = roundtrip(port, raw.p);
    buf_release(&raw);
    return r;
}

static void test_web_post_forms(void **state)
{
    (void)state;
    struct web_server *s = start();
    char *r = post(web_server_port(s), "/do", "application/x-www-form-urlencoded",
                   "name=%E7%8E%8B+a&x=1%26");
    assert_non_null(strstr(r, "method=POST\n"));
    assert_non_null(strstr(r, "name=\xe7\x8e\x8b a\n"));
    free(r);
    r = post(web_server_port(s), "/import", "multipart/form-data; boundary=XyZ",
             "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nclerk\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
             "filename=\"r.csv\"\r\n\r\na,b\n1,2\r\n--XyZ--\r\n");
    assert_non_null(strstr(r, "name=clerk\n"));
    assert_non_null(strstr(r, "file=7:r.csv:a,b\n1,2\n"));
    free(r);
    web_server_stop(&s);
}

static void test_web_refuses_bad_bodies(void **state)
{
    (void)state;
    struct web_server *s = start();
    /* A body type the form parser does not know. */
    char *r = post(web_server_port(s), "/do", "application/json", "{}");
    assert_non_null(strstr(r, "HTTP/1.1 400"));
    free(r);
    /* Above WEB_BODY_MAX: refused without reading it all into memory. */
    char head[256];
    snprintf(head, sizeof(head),
             "POST /do HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n",
             WEB_BODY_MAX + 1);
    size_t body = WEB_BODY_MAX + 1, hl = strlen(head);
    char *raw = xmalloc(hl + body + 1);
    memcpy(raw, head, hl);
    memset(raw + hl, 'a', body);
    raw[hl + body] = '\0';
    r = roundtrip(web_server_port(s), raw);
    assert_non_null(strstr(r, "HTTP/1.1 413"));
    free(r);
    free(raw);
    web_server_stop(&s);
}

static void test_web_bind_addresses(void **state)
{
    (void)state;
    char host[64];
    uint16_t port = 0;
    assert_int_equal(web_parse_bind("127.0.0.1:8380", host, sizeof(host), &port), DS_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8380);
    assert_int_equal(web_parse_bind("[::1]:8390", host, sizeof(host), &port), DS_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(web_parse_bind("8380", host, sizeof(host), &port), DS_EINVAL);
    assert_int_equal(web_parse_bind("h:", host, sizeof(host), &port), DS_EINVAL);
    assert_int_equal(web_parse_bind("h:65536", host, sizeof(host), &port), DS_EINVAL);
    assert_int_equal(web_parse_bind("h:80x", host, sizeof(host), &port), DS_EINVAL);
    assert_true(web_bind_is_loopback("127.0.0.1:1"));
    assert_true(web_bind_is_loopback("127.9.9.9:1"));
    assert_true(web_bind_is_loopback("[::1]:1"));
    assert_true(web_bind_is_loopback("localhost:1"));
    assert_false(web_bind_is_loopback("0.0.0.0:1"));
    assert_false(web_bind_is_loopback("192.0.2.1:1"));
    assert_false(web_bind_is_loopback("[::]:1"));
    assert_false(web_bind_is_loopback("garbage"));
    /* A name is not resolved: only numeric addresses (and localhost) are served. */
    struct web_server *s = NULL;
    char err[WEB_ERR_MAX] = "";
    struct web_options o = {"example.org:80", NULL, NULL};
    assert_int_equal(web_server_start(&o, echo, NULL, &s, err), DS_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "example.org"));
}

static void test_buf_html_escapes_everything_that_matters(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_html(&b, "<a href=\"x\" onclick='y'>&amp;</a>张");
    assert_string_equal(b.p,
                        "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;张");
    buf_release(&b);
    buf_url(&b, "a b/张&=");
    assert_string_equal(b.p, "a%20b%2F%E5%BC%A0%26%3D");
    buf_release(&b);
    buf_html(&b, NULL);
    size_t len = 99;
    char *p = buf_take(&b, &len);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%d,", i);
    assert_int_equal(strlen(b.p), b.len);
    buf_release(&b);
}

/* buf_json_str writes what jansson writes for the same string: the node's task list is
 * written with it and read by every JSON client. Every control character, the two that
 * must be escaped, a slash (not escaped), Chinese and a 4-byte character. */
static void test_buf_json_str_matches_jansson(void **state)
{
    (void)state;
    char controls[32];
    for (int i = 1; i < 32; i++)
        controls[i - 1] = (char)i;
    controls[31] = '\0';
    const char *cases[] = {"",        "plain",           "quote \" back \\ slash /",
                           controls,  "张建国 和谐社区", "\xf0\x9f\x98\x80 end",
                           "\x7f del"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = BUF_INIT;
        json_t *j = json_string(cases[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        buf_json_str(&b, cases[i]);
        assert_string_equal(b.p, want);
        free(want);
        json_decref(j);
        buf_release(&b);
    }
    struct buf b = BUF_INIT;
    buf_json_str(&b, NULL);
    assert_string_equal(b.p, "null");
    buf_release(&b);
}

/* buf_read_fd reads a pipe to its end, and says when there is more than it may take. */
static void test_buf_read_fd_to_end_or_max(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "0123456789", 10), 10);
    close(fds[1]);
    struct buf b = BUF_INIT;
    assert_int_equal(buf_read_fd(&b, fds[0], 10), DS_OK);
    close(fds[0]);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.p, "0123456789");
    buf_release(&b);

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "0123456789", 10), 10);
    close(fds[1]);
    assert_int_equal(buf_read_fd(&b, fds[0], 9), DS_EINVAL);
    close(fds[0]);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_web_get_query_cookie),
        cmocka_unit_test(test_buf_read_fd_to_end_or_max),
        cmocka_unit_test(test_web_post_forms),
        cmocka_unit_test(test_web_refuses_bad_bodies),
        cmocka_unit_test(test_web_bind_addresses),
        cmocka_unit_test(test_buf_html_escapes_everything_that_matters),
        cmocka_unit_test(test_buf_json_str_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
