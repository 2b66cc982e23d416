/* commands: the node's control API, shared by its three parts:
 *   commands.c  dispatch, status and the member reads;
 *   letters.c   the write commands: one per letter, each validating every operator input
 *               (ids, dates, UTF-8, sizes, enum values, the side allowed to write it, the
 *               references it names) and producing the event to append;
 *   reports.c   tasks, reports and lists computed from the records.
 * A refused command changes nothing and says why in Chinese and English. */
#ifndef DUALSYNC_NODE_COMMANDS_H
#define DUALSYNC_NODE_COMMANDS_H

#include "node.h"
#include "rules.h"

#include <jansson.h>
#include <stdbool.h>

/* The outcome of one handler: either an error (code, zh, en) or a JSON result, built
 * (result) or, for the large ones, written as text (text, malloc'd; result NULL). */
struct outcome {
    int code;
    char zh[512];
    char en[512];
    json_t *result;
    char *text;
};

/* Sets o's error and returns code. */
int fail(struct outcome *o, int code, const char *zh, const char *en);

/* An event a write command wants appended. */
struct pending_event {
    char member[IDS_MEMBER_MAX + 1];
    uint32_t type; /* 0: nothing to write (e.g. an introduction already sent, skip-existing) */
    uint8_t *body;
    size_t body_len;
    char *to[RULES_TO_MAX]; /* org-level addressees, malloc'd */
    size_t n_to;
};

/* What a write command sees: the node, and the events the same request wrote before it
 * (validation reads committed state; a batch must also see its own earlier letters). */
struct write_ctx {
    struct node *n;
    const struct pending_event *earlier;
    size_t n_earlier;
};

typedef int (*write_fn)(struct write_ctx *w, const Dualsync__CtlCommand *cmd,
                        struct pending_event *pe, struct outcome *o);

/* letters.c: the write command named cmd, or NULL. */
write_fn letters_find(const char *cmd);
void letters_pending_free(struct pending_event *pe);
/* A stored event by its id "origin/seq": DS_OK with *ev opened over *raw (caller releases
 * both), DS_EINVAL (not an id), DS_ENOTFOUND, DS_EIO. */
int letters_load_event(struct node *n, const char *id, struct event *ev, uint8_t **raw);
/* Packs body, applies the rules every receiver applies (refusal in o), and fills pe. */
int letters_seal(const struct rule *r, const char *member, ProtobufCMessage *body,
                 struct pending_event *pe, struct outcome *o);

/* amend.c: "letter correct" (更正) and "letter withdraw" (撤回) of this node's own letters
 * about a member, under the rules of docs/WORKFLOWS.md. */
int amend_correct(struct write_ctx *w, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                  struct outcome *o);
int amend_withdraw(struct write_ctx *w, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                   struct outcome *o);

/* Today's date in the node's local time, YYYY-MM-DD. */
void commands_today(char out[11]);

/* The member's record, if this node holds an open registration of it (DS_OK; caller
 * frees with fold_free); otherwise an error in o. */
/* The same, closed registrations included (a report-in may confirm a claim of a member
 * whose first registration was returned). */
int commands_own_member_any(struct node *n, const char *member, Dualsync__MemberRecord **rec,
                            struct outcome *o);
int commands_own_member(struct node *n, const char *member, Dualsync__MemberRecord **rec,
                        struct outcome *o);

/* reports.c: handles the read commands "tasks", "report" and "list"; false when cmd is
 * none of them. */
bool reports_run(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o);

#endif
