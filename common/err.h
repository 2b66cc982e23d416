/* err: the one error vocabulary of dualsync.
 * Fallible functions return DS_OK (0) or one of these negative codes; nothing else.
 * A failure is logged once where the foreign detail is known; callers pass the code on. */
#ifndef DUALSYNC_ERR_H
#define DUALSYNC_ERR_H

enum ds_err {
    DS_OK = 0,
    DS_EINVAL = -1,    /* malformed input: id, date, UTF-8, size, enum */
    DS_EIO = -2,       /* storage or file system failure */
    DS_EPROTO = -3,    /* a frame or event that does not decode or breaks the protocol */
    DS_EAUTH = -4,     /* bad signature, unknown key, org id mismatch */
    DS_ENOTFOUND = -5, /* no such member, event, org or file */
    DS_EEXIST = -6,    /* already there (duplicate event, existing data dir) */
    DS_EAGAIN = -7,    /* not now: try again later (daemon busy, not connected) */
    DS_EFORK = -8,     /* same (origin, seq) already stored with other bytes */
    DS_ESIDE = -9,     /* this side may not author this event */
    DS_ESEQ = -10,     /* sequence gap */
    DS_EROUTE = -11,   /* the org has no business with this member */
    DS_ERESTORE = -12, /* node lost its log: restore before writing */
    DS_ETIMEDOUT = -13,
    DS_ENOTRUNNING = -14, /* no daemon answers on the data directory */
    DS_EACCES = -15,      /* this user may not: a data directory or control socket of another */
};

/* Short English name of a code, e.g. "invalid input". Never NULL. */
const char *ds_strerror(int code);

/* Stable identifier of a code for JSON output, e.g. "EINVAL". Never NULL. */
const char *ds_errname(int code);

#endif
