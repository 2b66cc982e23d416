/* Unit tests of ctl, the parts that do not need a daemon: argument lookup on a decoded
 * command, request building, reply encoding (round-tripped through wire_unpack_ctl_reply,
 * exactly as the CLI decodes a reply) and the control socket path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ctl.h"
#include "testutil.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

static void test_ctl_arg_lookup(void **state)
{
    Dualsync__CtlArg a1 = DUALSYNC__CTL_ARG__INIT, a2 = DUALSYNC__CTL_ARG__INIT,
                     a3 = DUALSYNC__CTL_ARG__INIT, a4 = DUALSYNC__CTL_ARG__INIT;
    Dualsync__CtlArg *args[] = {&a1, &a2, &a3, &a4};
    Dualsync__CtlCommand cmd = DUALSYNC__CTL_COMMAND__INIT;
    (void)state;
    a1.key = (char *)"member";
    a1.value = (char *)"M1";
    a2.key = (char *)"name";
    a2.value = (char *)"\xe5\xbc\xa0\xe4\xb8\x89";
    a3.key = (char *)"json";
    a3.value = (char *)""; /* a flag: present with an empty value */
    a4.key = (char *)"member";
    a4.value = (char *)"M2"; /* a repeated key: the first one wins */
    cmd.cmd = (char *)"intro send";
    cmd.n_args = 4;
    cmd.args = args;

    assert_string_equal(ctl_arg(&cmd, "member"), "M1");
    assert_string_equal(ctl_arg(&cmd, "name"), "\xe5\xbc\xa0\xe4\xb8\x89");
    assert_string_equal(ctl_arg(&cmd, "json"), "");
    assert_null(ctl_arg(&cmd, "community"));
    assert_null(ctl_arg(&cmd, "Member")); /* keys are case-sensitive */
    assert_true(ctl_flag(&cmd, "json"));
    assert_true(ctl_flag(&cmd, "member"));
    assert_false(ctl_flag(&cmd, "force"));

    /* A command with no arguments. */
    Dualsync__CtlCommand empty = DUALSYNC__CTL_COMMAND__INIT;
    empty.cmd = (char *)"status";
    assert_null(ctl_arg(&empty, "member"));
    assert_false(ctl_flag(&empty, "json"));
}

static void test_ctl_arg_on_decoded_request(void **state)
{
    Dualsync__CtlArg a = DUALSYNC__CTL_ARG__INIT;
    Dualsync__CtlArg *args[] = {&a};
    Dualsync__CtlCommand c1 = DUALSYNC__CTL_COMMAND__INIT, c2 = DUALSYNC__CTL_COMMAND__INIT;
    Dualsync__CtlCommand *cmds[] = {&c1, &c2};
    Dualsync__CtlRequest req = DUALSYNC__CTL_REQUEST__INIT;
    uint8_t *bytes = NULL;
    size_t len = 0;
    (void)state;
    a.key = (char *)"member";
    a.value = (char *)"M7";
    c1.cmd = (char *)"report";
    c1.n_args = 1;
    c1.args = args;
    c2.cmd = (char *)"status";
    req.n_commands = 2;
    req.commands = cmds;
    wire_pack(&req.base, &bytes, &len);

    /* The daemon's view: decode, then look arguments up. */
    Dualsync__CtlRequest *back = wire_unpack_ctl_request(bytes, len);
    assert_non_null(back);
    assert_int_equal(back->n_commands, 2);
    assert_string_equal(back->commands[0]->cmd, "report");
    assert_string_equal(ctl_arg(back->commands[0], "member"), "M7");
    assert_null(ctl_arg(back->commands[1], "member"));
    wire_msg_free(back);
    free(bytes);
}

static void test_ctl_request_building(void **state)
{
    (void)state;
    struct ctl_request *req = ctl_request_new();
    assert_int_equal(ctl_request_count(req), 0);
    uint8_t *empty = NULL;
    size_t empty_len = 0;
    ctl_request_pack(req, &empty, &empty_len);
    Dualsync__CtlRequest *none = wire_unpack_ctl_request(empty, empty_len);
    assert_non_null(none);
    assert_int_equal(none->n_commands, 0);
    wire_msg_free(none);
    free(empty);
    ctl_request_command(req, "intro send");
    ctl_request_arg(req, "member", "M1");
    ctl_request_arg(req, "community", "community:hy-03");
    assert_int_equal(ctl_request_count(req), 1);
    /* Many commands (a bulk load) and many arguments each; strings are copied. */
    char key[16], value[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "cmd%d", i);
        ctl_request_command(req, key);
        for (int j = 0; j < 10; j++) {
            snprintf(key, sizeof(key), "k%d", j);
            snprintf(value, sizeof(value), "v%d", j);
            ctl_request_arg(req, key, value);
        }
    }
    assert_int_equal(ctl_request_count(req), 101);

    /* What the daemon decodes is what was built, in order. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    ctl_request_pack(req, &bytes, &len);
    Dualsync__CtlRequest *back = wire_unpack_ctl_request(bytes, len);
    assert_non_null(back);
    assert_int_equal(back->n_commands, 101);
    assert_string_equal(back->commands[0]->cmd, "intro send");
    assert_int_equal(back->commands[0]->n_args, 2);
    assert_string_equal(ctl_arg(back->commands[0], "member"), "M1");
    assert_string_equal(ctl_arg(back->commands[0], "community"), "community:hy-03");
    assert_string_equal(back->commands[100]->cmd, "cmd99");
    assert_int_equal(back->commands[100]->n_args, 10);
    assert_string_equal(back->commands[100]->args[9]->key, "k9");
    assert_string_equal(ctl_arg(back->commands[100], "k3"), "v3");
    wire_msg_free(back);
    free(bytes);

    /* Everything is freed (LeakSanitizer checks under the asan preset). */
    ctl_request_destroy(&req);
    assert_null(req);
    ctl_request_destroy(&req); /* NULL-safe */
}

static void test_ctl_reply_ok_round_trip(void **state)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    json_error_t jerr;
    (void)state;
    json_t *result = json_pack("{s:s, s:i, s:[s,s], s:b}", "member", "M1", "events", 3, "orgs",
                               "unit:a", "\xe7\xa4\xbe\xe5\x8c\xba", "reported", 1);
    assert_non_null(result);
    json_t *expected = json_deep_copy(result);
    ctl_reply_ok(result, &bytes, &len); /* takes ownership of result */

    Dualsync__CtlReply *r = wire_unpack_ctl_reply(bytes, len);
    assert_non_null(r);
    assert_int_equal(r->code, DS_OK);
    assert_string_equal(r->error_zh, "");
    assert_string_equal(r->error_en, "");
    assert_int_equal(r->failed_index, 0);
    json_t *back = json_loads(r->json, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, expected));
    json_decref(back);
    json_decref(expected);
    wire_msg_free(r);
    free(bytes);

    /* No result: the JSON document is null. */
    ctl_reply_ok(NULL, &bytes, &len);
    r = wire_unpack_ctl_reply(bytes, len);
    assert_non_null(r);
    assert_int_equal(r->code, DS_OK);
    assert_string_equal(r->json, "null");
    wire_msg_free(r);
    free(bytes);
}

/* 没有这个党员 */
#define NO_MEMBER_ZH "\xe6\xb2\xa1\xe6\x9c\x89\xe8\xbf\x99\xe4\xb8\xaa\xe5\x85\x9a\xe5\x91\x98"

static void test_ctl_reply_error_round_trip(void **state)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    (void)state;
    ctl_reply_error(DS_ENOTFOUND, NO_MEMBER_ZH, "no such member", 3, &bytes, &len);
    Dualsync__CtlReply *r = wire_unpack_ctl_reply(bytes, len);
    assert_non_null(r);
    assert_int_equal(r->code, DS_ENOTFOUND); /* negative codes survive the int32 field */
    assert_string_equal(r->error_zh, NO_MEMBER_ZH);
    assert_string_equal(r->error_en, "no such member");
    assert_int_equal(r->failed_index, 3);
    assert_string_equal(r->json, "null");
    wire_msg_free(r);
    free(bytes);

    ctl_reply_error(DS_ENOTRUNNING, "", "", 0, &bytes, &len);
    r = wire_unpack_ctl_reply(bytes, len);
    assert_non_null(r);
    assert_int_equal(r->code, DS_ENOTRUNNING);
    assert_int_equal(r->failed_index, 0);
    wire_msg_free(r);
    free(bytes);

    /* A reply that does not decode. */
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    assert_null(wire_unpack_ctl_reply(garbage, sizeof(garbage)));
}

static void test_ctl_socket_path(void **state)
{
    char buf[256];
    char dir[200];
    (void)state;
    assert_rc(ctl_socket_path("/var/lib/dualsync", buf, sizeof(buf)), DS_OK);
    assert_string_equal(buf, "/var/lib/dualsync/" CTL_SOCKET_NAME);
    /* Does not fit the caller's buffer. */
    assert_rc(ctl_socket_path("/var/lib/dualsync", buf, 10), DS_EINVAL);
    /* Fits the buffer but not a unix socket address (~108 bytes). */
    memset(dir, 'd', sizeof(dir) - 1);
    dir[0] = '/';
    dir[sizeof(dir) - 1] = '\0';
    assert_rc(ctl_socket_path(dir, buf, sizeof(buf)), DS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_arg_lookup),
        cmocka_unit_test(test_ctl_arg_on_decoded_request),
        cmocka_unit_test(test_ctl_request_building),
        cmocka_unit_test(test_ctl_reply_ok_round_trip),
        cmocka_unit_test(test_ctl_reply_error_round_trip),
        cmocka_unit_test(test_ctl_socket_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
