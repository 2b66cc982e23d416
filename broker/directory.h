/* directory: the street's orgs (their keys, names and states) and the directory events
 * that announce them, signed by the street; the CURVE keys the ZAP handler lets in. */
#ifndef DUALSYNC_BROKER_DIRECTORY_H
#define DUALSYNC_BROKER_DIRECTORY_H

#include "ids.h"
#include "keyring.h"
#include "keys.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct broker;
struct org_card;

#define ORG_REASON_MAX 256

struct org_entry {
    char org[IDS_ORG_MAX];
    enum org_kind kind;
    char name[IDS_NAME_MAX + 1];
    uint8_t curve_key[KEYS_PUB_LEN];
    struct keyring ring; /* its signing keys: which one signs which of its events */
    Dualsync__OrgState state;
    char reason[ORG_REASON_MAX]; /* of a revoke or removal */
    uint64_t seq;                /* directory event that announced it as it is now */
    /* The street that holds it, when it is another street's (links.h: learned over a peer
     * link and announced again here); "": this street's own. Only an own org may connect. */
    char street[IDS_ORG_MAX];
    /* The linked broker it is reached through: its street's own, or a hub (links.h). */
    char via[IDS_ORG_MAX];
};

/* The directory's state, owned by directory.c: the orgs by id and by CURVE key, and the
 * directory stream (the seqs of the street's directory entries, in order). */
struct directory;

struct directory *directory_new(void);
void directory_destroy(struct directory **dp);

/* Loads the orgs and the directory stream's seqs. */
int directory_load(struct broker *b);
/* The street seq of the last directory entry (0: none yet). */
uint64_t directory_head(const struct broker *b);
/* The position in the stream of the first entry after street seq `after` (the count of
 * entries at or below it); the entry there is directory_seq_at(b, pos) while pos < the
 * count. */
size_t directory_position(const struct broker *b, uint64_t after);
size_t directory_count(const struct broker *b);
uint64_t directory_seq_at(const struct broker *b, size_t pos);
/* The orgs in the directory, whatever their state. */
size_t directory_org_count(const struct broker *b);
/* Calls fn for each org, whatever its state, in no set order, until it returns false; the
 * directory must not change meanwhile. */
void directory_each(const struct broker *b, bool (*fn)(const struct org_entry *e, void *arg),
                    void *arg);
/* Adds an org to the directory: a signed directory event, appended to the directory
 * stream once committed (every node, the newcomer included, reads it from its cursor).
 * DS_EEXIST when the org or one of its keys is already there; DS_EINVAL for a bad card. */
int directory_add(struct broker *b, const struct org_card *card);
/* The org lifecycle (docs/OPERATIONS.md "An org leaves", "A key leaked"): each appends the
 * org's new directory entry to the stream (sent to every connected node), and closes the org's
 * live connections. Revoke: its key is refused from now on, letters to it are held in its
 * inbox. Rekey: card holds its new keys; a rotation card (dualsync-node rekey) must be
 * signed by the key the street knows (DS_EAUTH otherwise) and start after what the street
 * holds from the org (DS_ESEQ); with unsigned_ok a plain card is taken as a rotation from
 * the next seq on (an org that lost its keys; the operator compared fingerprints). Remove:
 * refused (DS_EEXIST, the members in *open_out) while the org has open registrations
 * unless force, which closes them first. DS_ENOTFOUND for an org not in the directory or
 * already removed; DS_EINVAL for a bad card or reason. */
int directory_revoke(struct broker *b, const char *org, const char *reason);
int directory_rekey(struct broker *b, const struct org_card *card, bool unsigned_ok);
int directory_remove(struct broker *b, const char *org, const char *reason, bool force,
                     json_t **open_out);
/* Announces another street's org as the linked broker `via` sent it (d, checked here: a
 * unit or community with valid keys). From a street's own broker d->street is empty and
 * the holder is via; from a hub (hub true) d->street names the holder, which may not be
 * this street. The caller checked the linked broker's signature (links.c). An org reached
 * both directly and through a hub keeps the direct way. DS_OK, with *changed false when
 * nothing changes (a resend); DS_EEXIST when the org (or its CURVE key) belongs to this
 * street or to another one (*holder_out names it); DS_EINVAL for a bad entry; DS_EIO. */
int directory_import(struct broker *b, const Dualsync__DirectoryEntry *d, const char *via, bool hub,
                     bool *changed, char holder_out[IDS_ORG_MAX]);
/* Whether the directory entry at stream position pos goes to the linked broker `peer`: a
 * street sends its own orgs only; a hub also the other streets' orgs, but not back to the
 * broker they came through or to their own street. */
bool directory_entry_for(const struct broker *b, size_t pos, const char *peer);
/* The street that holds org: another street's id, this broker's own for its own orgs, NULL
 * when org is not in the directory. */
const char *directory_holder(const struct broker *b, const char *org);
/* "active", "revoked" or "removed". */
const char *directory_state_name(Dualsync__OrgState state);
/* The org's entry, whatever its state (NULL when it never was in the directory). */
const struct org_entry *directory_find(const struct broker *b, const char *org);
json_t *directory_json(const struct broker *b);
/* Whether any org, whatever its state and street, has (or had at its last entry) this
 * CURVE key. */
bool directory_key_in_use(const struct broker *b, const uint8_t curve[KEYS_PUB_LEN]);
bool directory_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX]);
/* Authors an org-level street event (a joint meeting) addressed to to[0..n_to): signed with
 * the street's keys, checked against its rule, stored, and appended to each addressee's inbox
 * in one transaction. DS_OK with *seq_out; DS_EINVAL or DS_ESIDE (breaks its rule), DS_EIO. */
int directory_author(struct broker *b, uint32_t type, const uint8_t *body, size_t body_len,
                     char *const *to, size_t n_to, uint64_t *seq_out);

#endif
