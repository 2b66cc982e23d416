/* ctl: encoding of control requests and replies. The daemon side decodes with
 * wire_unpack_ctl_request and answers with ctl_reply_*; the CLI side builds requests here
 * and calls through transport. */
#include "ctl.h"

#include "err.h"
#include "fields.h"
#include "ids.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

const char *ctl_arg(const Dualsync__CtlCommand *cmd, const char *key)
{
    for (size_t i = 0; i < cmd->n_args; i++)
        if (strcmp(cmd->args[i]->key, key) == 0)
            return cmd->args[i]->value;
    return NULL;
}

static bool one_of(const char *key, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(key, *names) == 0)
            return true;
    return false;
}

void ctl_normalize_args(Dualsync__CtlRequest *r)
{
    static const char *const dates[] = {"date", "due", "start", "as-of", NULL};
    static const char *const lists[] = {"categories", "lead", "attendees", NULL};
    char day[11];
    for (size_t i = 0; r && i < r->n_commands; i++)
        for (size_t k = 0; k < r->commands[i]->n_args; k++) {
            Dualsync__CtlArg *a = r->commands[i]->args[k];
            if (!a->key || !a->value)
                continue;
            if (one_of(a->key, dates) && ids_date_normalize(a->value, day)) {
                free(a->value);
                a->value = xstrdup(day);
            } else if (one_of(a->key, lists)) {
                char *list = fields_list_canonical(a->value);
                free(a->value);
                a->value = list;
            }
        }
}

bool ctl_flag(const Dualsync__CtlCommand *cmd, const char *key)
{
    return ctl_arg(cmd, key) != NULL;
}

void ctl_reply_ok(json_t *result, uint8_t **out, size_t *len_out)
{
    char *text = result ? json_dumps(result, CTL_JSON_FLAGS) : NULL;
    ctl_reply_ok_text(text ? text : "null", out, len_out);
    free(text);
    json_decref(result);
}

void ctl_reply_ok_text(const char *json, uint8_t **out, size_t *len_out)
{
    Dualsync__CtlReply r = DUALSYNC__CTL_REPLY__INIT;
    r.code = 0;
    r.json = (char *)json;
    wire_pack(&r.base, out, len_out);
}

void ctl_reply_error(int code, const char *zh, const char *en, uint32_t failed_index, uint8_t **out,
                     size_t *len_out)
{
    Dualsync__CtlReply r = DUALSYNC__CTL_REPLY__INIT;
    r.code = code;
    r.error_zh = (char *)zh;
    r.error_en = (char *)en;
    r.json = (char *)"null";
    r.failed_index = failed_index;
    wire_pack(&r.base, out, len_out);
}

struct ctl_request {
    Dualsync__CtlRequest msg;
    size_t cap;
};

struct ctl_request *ctl_request_new(void)
{
    struct ctl_request *req = xcalloc(1, sizeof(*req));
    dualsync__ctl_request__init(&req->msg);
    return req;
}

void ctl_request_destroy(struct ctl_request **reqp)
{
    struct ctl_request *req = *reqp;
    if (!req)
        return;
    for (size_t i = 0; i < req->msg.n_commands; i++) {
        Dualsync__CtlCommand *c = req->msg.commands[i];
        for (size_t j = 0; j < c->n_args; j++) {
            free(c->args[j]->key);
            free(c->args[j]->value);
            free(c->args[j]);
        }
        free(c->args);
        free(c->cmd);
        free(c);
    }
    free(req->msg.commands);
    free(req);
    *reqp = NULL;
}

void ctl_request_command(struct ctl_request *req, const char *cmd)
{
    if (req->msg.n_commands == req->cap) {
        req->cap = req->cap ? req->cap * 2 : 4;
        req->msg.commands = xrealloc(req->msg.commands, req->cap * sizeof(*req->msg.commands));
    }
    Dualsync__CtlCommand *c = xmalloc(sizeof(*c));
    dualsync__ctl_command__init(c);
    c->cmd = xstrdup(cmd);
    req->msg.commands[req->msg.n_commands++] = c;
}

void ctl_request_arg(struct ctl_request *req, const char *key, const char *value)
{
    Dualsync__CtlCommand *c = req->msg.commands[req->msg.n_commands - 1];
    Dualsync__CtlArg *a = xmalloc(sizeof(*a));
    dualsync__ctl_arg__init(a);
    a->key = xstrdup(key);
    a->value = xstrdup(value);
    c->args = xrealloc(c->args, (c->n_args + 1) * sizeof(*c->args));
    c->args[c->n_args++] = a;
}

size_t ctl_request_count(const struct ctl_request *req)
{
    return req->msg.n_commands;
}

const char *ctl_request_command_name(const struct ctl_request *req, size_t i)
{
    return req->msg.commands[i]->cmd;
}

void ctl_request_pack(const struct ctl_request *req, uint8_t **out, size_t *len_out)
{
    wire_pack(&req->msg.base, out, len_out);
}

int ctl_socket_path(const char *data_dir, char *buf, size_t size)
{
    struct sockaddr_un sun;
    int n = snprintf(buf, size, "%s/%s", data_dir, CTL_SOCKET_NAME);
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(sun.sun_path))
        return DS_EINVAL;
    return DS_OK;
}

/* Decoded straight from the socket's message (transport_ctl_call_with). */
static int unpack_reply(const uint8_t *reply, size_t len, void *arg)
{
    Dualsync__CtlReply **r = arg;
    *r = wire_unpack_ctl_reply(reply, len);
    return *r ? DS_OK : DS_EPROTO;
}

int ctl_call(const char *data_dir, const struct ctl_request *req, int timeout_ms,
             Dualsync__CtlReply **reply_out)
{
    char path[256];
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = ctl_socket_path(data_dir, path, sizeof(path));
    if (rc != DS_OK)
        return rc;
    wire_pack(&req->msg.base, &bytes, &len);
    Dualsync__CtlReply *r = NULL;
    rc = transport_ctl_call_with(path, bytes, len, timeout_ms, unpack_reply, &r);
    free(bytes);
    if (rc == DS_OK)
        *reply_out = r;
    return rc;
}

bool ctl_reads_records(const char *command)
{
    static const char *const reads[] = {"member show", "member history", "members",       "digest",
                                        "orgs",        "tasks",          "annual report", "list",
                                        "letter",      "journal"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        if (strcmp(command, reads[i]) == 0)
            return true;
    return false;
}
