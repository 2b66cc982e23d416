/* keyring: see keyring.h. */
#include "keyring.h"

#include "err.h"
#include "ids.h"
#include "store.h"

#include <string.h>

void keyring_init(struct keyring *r, const uint8_t sign_key[KEYS_PUB_LEN])
{
    memset(r, 0, sizeof(*r));
    r->n = 1;
    memcpy(r->era[0].sign_key, sign_key, KEYS_PUB_LEN);
}

const uint8_t *keyring_current(const struct keyring *r)
{
    return r->era[r->n - 1].sign_key;
}

const uint8_t *keyring_for(const struct keyring *r, uint64_t seq)
{
    size_t i = r->n - 1;
    while (i > 0 && seq < r->era[i].from_seq)
        i--;
    return r->era[i].sign_key;
}

int keyring_rotate(struct keyring *r, const uint8_t sign_key[KEYS_PUB_LEN], uint64_t from_seq)
{
    if (from_seq < 2 || from_seq <= r->era[0].from_seq)
        return DS_EINVAL;
    while (r->n > 1 && r->era[r->n - 1].from_seq >= from_seq)
        r->n--; /* a key rotated away before it signed anything: its era never began */
    for (size_t i = 0; i < r->n; i++)
        if (memcmp(r->era[i].sign_key, sign_key, KEYS_PUB_LEN) == 0)
            return DS_EEXIST; /* a key that comes back would sign two eras */
    if (r->n == KEYRING_MAX)
        return DS_EEXIST;
    memcpy(r->era[r->n].sign_key, sign_key, KEYS_PUB_LEN);
    r->era[r->n].from_seq = from_seq;
    r->n++;
    return DS_OK;
}

int keyring_from_entry(const Dualsync__DirectoryEntry *d, struct keyring *out)
{
    if (d->sign_key.len != KEYS_PUB_LEN || d->n_past_keys >= KEYRING_MAX)
        return DS_EINVAL;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < d->n_past_keys; i++) {
        const Dualsync__PastKey *p = d->past_keys[i];
        if (p->sign_key.len != KEYS_PUB_LEN || (i > 0 && p->from_seq <= out->era[i - 1].from_seq))
            return DS_EINVAL;
        memcpy(out->era[i].sign_key, p->sign_key.data, KEYS_PUB_LEN);
        out->era[i].from_seq = p->from_seq;
    }
    out->n = d->n_past_keys + 1;
    memcpy(out->era[d->n_past_keys].sign_key, d->sign_key.data, KEYS_PUB_LEN);
    out->era[d->n_past_keys].from_seq = d->key_from;
    if (d->n_past_keys && d->key_from <= out->era[d->n_past_keys - 1].from_seq)
        return DS_EINVAL;
    return DS_OK;
}

void keyring_to_entry(const struct keyring *r, Dualsync__DirectoryEntry *d, Dualsync__PastKey *past,
                      Dualsync__PastKey **ptrs)
{
    for (size_t i = 0; i + 1 < r->n; i++) {
        dualsync__past_key__init(&past[i]);
        past[i].sign_key.data = (uint8_t *)r->era[i].sign_key;
        past[i].sign_key.len = KEYS_PUB_LEN;
        past[i].from_seq = r->era[i].from_seq;
        ptrs[i] = &past[i];
    }
    d->n_past_keys = r->n - 1;
    d->past_keys = r->n > 1 ? ptrs : NULL;
    d->sign_key.data = (uint8_t *)keyring_current(r);
    d->sign_key.len = KEYS_PUB_LEN;
    d->key_from = r->era[r->n - 1].from_seq;
}

/* What a rotation signs: a fixed context, so the signature cannot pass for an event's. */
#define ROTATION_CONTEXT "dualsync key rotation v1"
#define ROTATION_MSG_MAX (sizeof(ROTATION_CONTEXT) + IDS_ORG_MAX + 2 * KEYS_PUB_LEN + 8)

static size_t rotation_message(const char *org, const uint8_t curve[KEYS_PUB_LEN],
                               const uint8_t sign[KEYS_PUB_LEN], uint64_t key_from,
                               uint8_t msg[ROTATION_MSG_MAX])
{
    size_t n = 0, org_len = strnlen(org, IDS_ORG_MAX - 1);
    memcpy(msg, ROTATION_CONTEXT, sizeof(ROTATION_CONTEXT)); /* with its NUL */
    n += sizeof(ROTATION_CONTEXT);
    memcpy(msg + n, org, org_len);
    n += org_len;
    msg[n++] = 0;
    memcpy(msg + n, curve, KEYS_PUB_LEN);
    n += KEYS_PUB_LEN;
    memcpy(msg + n, sign, KEYS_PUB_LEN);
    n += KEYS_PUB_LEN;
    store_put_u64be(msg + n, key_from);
    return n + 8;
}

void keyring_rotation_sign(const struct keys *old, const char *org,
                           const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                           uint64_t key_from, uint8_t sig_out[KEYS_SIG_LEN])
{
    uint8_t msg[ROTATION_MSG_MAX];
    size_t n = rotation_message(org, curve, sign, key_from, msg);
    keys_sign(old, msg, n, sig_out);
}

bool keyring_rotation_verify(const uint8_t old_sign[KEYS_PUB_LEN], const char *org,
                             const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                             uint64_t key_from, const uint8_t sig[KEYS_SIG_LEN])
{
    uint8_t msg[ROTATION_MSG_MAX];
    size_t n = rotation_message(org, curve, sign, key_from, msg);
    return keys_verify(old_sign, msg, n, sig);
}
