/* err: names for the error codes of err.h; a table so that code and text cannot drift. */
#include "err.h"

#include <stddef.h>

struct err_name {
    int code;
    const char *name;
    const char *text;
};

static const struct err_name err_names[] = {
    {DS_OK, "OK", "success"},
    {DS_EINVAL, "EINVAL", "invalid input"},
    {DS_EIO, "EIO", "storage or file error"},
    {DS_EPROTO, "EPROTO", "protocol error"},
    {DS_EAUTH, "EAUTH", "authentication failed"},
    {DS_ENOTFOUND, "ENOTFOUND", "not found"},
    {DS_EEXIST, "EEXIST", "already exists"},
    {DS_EAGAIN, "EAGAIN", "try again later"},
    {DS_EFORK, "EFORK", "forked event (same origin and seq, different bytes)"},
    {DS_ESIDE, "ESIDE", "this side may not author this event"},
    {DS_ESEQ, "ESEQ", "sequence gap"},
    {DS_EROUTE, "EROUTE", "no business with this member"},
    {DS_ERESTORE, "ERESTORE", "node must be restored before writing"},
    {DS_ETIMEDOUT, "ETIMEDOUT", "timed out"},
    {DS_ENOTRUNNING, "ENOTRUNNING", "daemon not running"},
    {DS_EACCES, "EACCES", "permission denied"},
};

static const struct err_name *err_lookup(int code)
{
    for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
        if (err_names[i].code == code)
            return &err_names[i];
    return NULL;
}

const char *ds_strerror(int code)
{
    const struct err_name *e = err_lookup(code);
    return e ? e->text : "unknown error";
}

const char *ds_errname(int code)
{
    const struct err_name *e = err_lookup(code);
    return e ? e->name : "EUNKNOWN";
}
