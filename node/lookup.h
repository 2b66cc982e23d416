/* lookup: what an operator typed, to what it names, and a hint when it names nothing.
 * Clerks write an org as its code ("hexie"), its id ("community:hexie") or its Chinese
 * name ("和谐社区"), dates as 2026/3/5, and copy member ids in the wrong case. Every
 * control request (CLI, batch, console) passes lookup_normalize before its handler, so
 * the handlers see canonical ids and dates, and one place decides what is accepted. */
#ifndef DUALSYNC_LOOKUP_H
#define DUALSYNC_LOOKUP_H

#include "commands.h"
#include "node.h"

/* The org of the directory that text names, of kind (ORG_NONE: any kind but the street):
 * its id, its code when one kind has it, or its exact display name. DS_OK with out;
 * DS_ENOTFOUND; DS_EEXIST when the code or the name is not unique. */
int lookup_org(const struct node *n, const char *text, enum org_kind kind, char out[IDS_ORG_MAX]);

/* Fails o (DS_ENOTFOUND) with the value typed for --option and the nearest org of kind
 * in the directory, if one is near: "did you mean community:hexie (和谐社区)". */
int lookup_org_refusal(const struct node *n, const char *option, const char *text,
                       enum org_kind kind, struct outcome *o);

/* Fails o (DS_ENOTFOUND) for a member id with no record here, naming it, and the id in
 * another case that does have one. */
int lookup_member_refusal(struct node *n, const char *member, struct outcome *o);

/* Rewrites the arguments of every command of r in place: dates and lists as
 * ctl_normalize_args does, and orgs (community, org) to their ids where they resolve;
 * anything else is left for the handler to refuse. */
void lookup_normalize(const struct node *n, Dualsync__CtlRequest *r);

#endif
