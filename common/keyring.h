/* keyring: the signing keys an org has had, and which of its events each one signs.
 *
 * An org whose key leaked rotates it (`dualsync-node rekey`, then the street's `org rekey`).
 * Its events from seq key_from on are signed by the new key; the earlier ones stay signed
 * by the old one, and every reader must go on accepting them: a node restoring from the
 * broker, a community reading a unit's history, a broker rebuilt from the nodes. So an org
 * is known by a ring of eras (a key and the first seq it signs), and a signature is checked
 * with the era the event's seq falls in, never with "any key the org ever had" (a leaked
 * old key must not sign events after the rotation).
 *
 * The rotation itself is a statement signed by the old key (keyring_rotation_sign): the new
 * keys, the org and key_from. The street checks it at `org rekey` and publishes it in the
 * directory entry, so anyone can tell a rotation from an impostor who only has a new card. */
#ifndef DUALSYNC_KEYRING_H
#define DUALSYNC_KEYRING_H

#include "keys.h"

#include "dualsync.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rotations an org may make; the directory entry carries them all. */
#define KEYRING_MAX 16

struct keyring_era {
    uint8_t sign_key[KEYS_PUB_LEN];
    uint64_t from_seq; /* the first of the org's events this key signs (0 or 1: all) */
};

struct keyring {
    size_t n; /* >= 1; era[n-1] is the current key */
    struct keyring_era era[KEYRING_MAX];
};

/* A ring of one key that signs everything. */
void keyring_init(struct keyring *r, const uint8_t sign_key[KEYS_PUB_LEN]);
const uint8_t *keyring_current(const struct keyring *r);
/* The key that signs the org's event seq. */
const uint8_t *keyring_for(const struct keyring *r, uint64_t seq);
/* A new current key from seq from_seq on; the caller vouches that nothing was signed from
 * from_seq on, so an era starting there or later (a key rotated away before it signed
 * anything) is dropped. DS_EINVAL when from_seq < 2 or not above the first era's start,
 * DS_EEXIST when the ring is full (KEYRING_MAX) or the key is one it kept. On an error r
 * may have lost such eras: work on a copy. */
int keyring_rotate(struct keyring *r, const uint8_t sign_key[KEYS_PUB_LEN], uint64_t from_seq);

/* The ring of a directory entry (sign_key, key_from, past_keys). DS_EINVAL when the keys
 * are not 32 bytes, the eras are not in increasing order, or there are too many. */
int keyring_from_entry(const Dualsync__DirectoryEntry *d, struct keyring *out);
/* Fills d's sign_key, key_from and past_keys from r; the pointers point into r, past and
 * ptrs (caller storage of KEYRING_MAX each), which must outlive d's packing. */
void keyring_to_entry(const struct keyring *r, Dualsync__DirectoryEntry *d, Dualsync__PastKey *past,
                      Dualsync__PastKey **ptrs);

/* The old key's signature of a rotation: org's new CURVE and signing keys, valid for its
 * events from key_from on. */
void keyring_rotation_sign(const struct keys *old, const char *org,
                           const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                           uint64_t key_from, uint8_t sig_out[KEYS_SIG_LEN]);
bool keyring_rotation_verify(const uint8_t old_sign[KEYS_PUB_LEN], const char *org,
                             const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                             uint64_t key_from, const uint8_t sig[KEYS_SIG_LEN]);

#endif
