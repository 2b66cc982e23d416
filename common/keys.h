/* keys: the two keypairs of every process and the crypto that uses them (libsodium).
 *   CURVE (X25519) keys secure the ZeroMQ transport; Ed25519 keys sign events.
 * Secrets live in <data dir>/keys/ (mode 0700), one hex file each (mode 0600); the
 * public halves are derived, never stored apart from the secret.
 * Call keys_crypto_init() once before anything else here. */
#ifndef DUALSYNC_KEYS_H
#define DUALSYNC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_PUB_LEN 32
#define KEYS_SIGN_SECRET_LEN 64
#define KEYS_CURVE_SECRET_LEN 32
#define KEYS_SIG_LEN 64
#define KEYS_DIGEST_LEN 32
#define KEYS_HEX_PUB_LEN (2 * KEYS_PUB_LEN + 1)

struct keys {
    uint8_t sign_pk[KEYS_PUB_LEN];
    uint8_t sign_sk[KEYS_SIGN_SECRET_LEN];
    uint8_t curve_pk[KEYS_PUB_LEN];
    uint8_t curve_sk[KEYS_CURVE_SECRET_LEN];
};

/* Initialises libsodium. DS_EIO if it cannot (no entropy source). Idempotent. */
int keys_crypto_init(void);

/* Fresh random keypairs. */
void keys_generate(struct keys *keys_out);

/* Writes the secrets under dir/keys/. DS_EEXIST if keys are already there (never
 * overwritten: a node that changes keys loses its identity), DS_EIO on file errors. */
int keys_save(const char *dir, const struct keys *keys);

/* Replaces the secrets under dir/keys/ with keys (a rotation): the new pair is written
 * beside them and swapped in with one rename, and the old files are overwritten and
 * removed. DS_EIO on file errors (logged; dir/keys/ then still holds the old pair). */
int keys_replace(const char *dir, const struct keys *keys);

/* Reads the secrets under dir/keys/ and derives the public keys. DS_ENOTFOUND when
 * absent, DS_EINVAL when malformed, DS_EIO on read errors (logged). */
int keys_load(const char *dir, struct keys *keys_out);

void keys_sign(const struct keys *keys, const void *msg, size_t len, uint8_t sig_out[KEYS_SIG_LEN]);
bool keys_verify(const uint8_t pub[KEYS_PUB_LEN], const void *msg, size_t len,
                 const uint8_t sig[KEYS_SIG_LEN]);

/* BLAKE2b-256. */
void keys_digest(const void *data, size_t len, uint8_t out[KEYS_DIGEST_LEN]);

/* An org's key fingerprint, for two people to compare by phone before a card is trusted:
 * the first 16 bytes of BLAKE2b-256 over curve_key || sign_key, in lower-case hex, in 8
 * groups of 4 ("9174 e459 af0e ..."). The street prints it at `org add`, the console shows
 * it before confirming a card, and `init` prints the org's own. */
#define KEYS_FINGERPRINT_LEN 40
void keys_fingerprint(const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                      char out[KEYS_FINGERPRINT_LEN]);

/* Lower-case hex of n bytes into out (size >= 2n+1). */
void keys_hex(const uint8_t *bin, size_t n, char *out);
/* Parses exactly 2n hex digits into n bytes. DS_EINVAL otherwise. */
int keys_unhex(const char *hex, uint8_t *bin_out, size_t n);

#endif
