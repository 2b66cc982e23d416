/* keys: thin, careful use of libsodium. Secrets are written to a temp file and renamed so
 * that a crash never leaves a half-written key; they are created 0600 from the start
 * (no window in which they are world-readable). */
#define _GNU_SOURCE /* renameat2 */
#include "keys.h"

#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int keys_crypto_init(void)
{
    if (sodium_init() < 0) {
        log_error("keys: sodium_init failed");
        return DS_EIO;
    }
    return DS_OK;
}

void keys_generate(struct keys *keys_out)
{
    crypto_sign_keypair(keys_out->sign_pk, keys_out->sign_sk);
    randombytes_buf(keys_out->curve_sk, sizeof(keys_out->curve_sk));
    crypto_scalarmult_base(keys_out->curve_pk, keys_out->curve_sk);
}

/* Writes one secret into the keys directory kdir. */
static int write_secret(const char *kdir, const char *name, const uint8_t *bin, size_t n)
{
    char path[4200], tmp[4210];
    char hex[2 * KEYS_SIGN_SECRET_LEN + 2];
    snprintf(path, sizeof(path), "%s/%s", kdir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    keys_hex(bin, n, hex);
    strcat(hex, "\n");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        log_error("keys: create path=%s: %s", tmp, strerror(errno));
        return DS_EIO;
    }
    size_t len = strlen(hex);
    bool ok = write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    sodium_memzero(hex, sizeof(hex));
    if (!ok || rename(tmp, path) != 0) {
        log_error("keys: write path=%s: %s", path, strerror(errno));
        unlink(tmp);
        return DS_EIO;
    }
    return DS_OK;
}

static int write_both(const char *kdir, const struct keys *keys)
{
    int rc = write_secret(kdir, "sign.secret", keys->sign_sk, sizeof(keys->sign_sk));
    if (rc == DS_OK)
        rc = write_secret(kdir, "curve.secret", keys->curve_sk, sizeof(keys->curve_sk));
    return rc;
}

int keys_save(const char *dir, const struct keys *keys)
{
    char kdir[4096];
    snprintf(kdir, sizeof(kdir), "%s/keys", dir);
    if (mkdir(kdir, 0700) != 0) {
        if (errno == EEXIST)
            return DS_EEXIST;
        log_error("keys: mkdir path=%s: %s", kdir, strerror(errno));
        return DS_EIO;
    }
    return write_both(kdir, keys);
}

/* Overwrites a secret file before unlinking it: a replaced key should not linger in the
 * file's blocks longer than the file system makes it. */
static void wipe_secret(const char *kdir, const char *name)
{
    char path[4200];
    uint8_t zeros[2 * KEYS_SIGN_SECRET_LEN + 2] = {0};
    int n = snprintf(path, sizeof(path), "%s/%s", kdir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return; /* cannot be: kdir is at most 4,095 bytes */
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, zeros, sizeof(zeros));
        (void)w;
        fsync(fd);
        close(fd);
    }
    unlink(path);
}

static void wipe_dir(const char *kdir)
{
    wipe_secret(kdir, "sign.secret");
    wipe_secret(kdir, "curve.secret");
    wipe_secret(kdir, "sign.secret.tmp");
    wipe_secret(kdir, "curve.secret.tmp");
    rmdir(kdir);
}

int keys_replace(const char *dir, const struct keys *keys)
{
    char kdir[4096], next[4200];
    snprintf(kdir, sizeof(kdir), "%s/keys", dir);
    snprintf(next, sizeof(next), "%s/keys.next", dir);
    wipe_dir(next); /* a replacement a crash interrupted */
    if (mkdir(next, 0700) != 0) {
        log_error("keys: mkdir path=%s: %s", next, strerror(errno));
        return DS_EIO;
    }
    int rc = write_both(next, keys);
    /* One step that swaps the two directories: at every moment keys/ holds one whole pair. */
    if (rc == DS_OK && renameat2(AT_FDCWD, next, AT_FDCWD, kdir, RENAME_EXCHANGE) != 0) {
        log_error("keys: swap path=%s: %s", kdir, strerror(errno));
        rc = DS_EIO;
    }
    wipe_dir(next); /* the old keys after the swap, the new ones if it failed */
    return rc;
}

static int read_secret(const char *dir, const char *name, uint8_t *bin, size_t n)
{
    char path[4096];
    char hex[2 * KEYS_SIGN_SECRET_LEN + 8] = {0};
    snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return DS_ENOTFOUND;
        log_error("keys: open path=%s: %s", path, strerror(errno));
        return DS_EIO;
    }
    size_t got = fread(hex, 1, sizeof(hex) - 1, f);
    fclose(f);
    while (got > 0 && (hex[got - 1] == '\n' || hex[got - 1] == '\r'))
        hex[--got] = '\0';
    int rc = keys_unhex(hex, bin, n);
    sodium_memzero(hex, sizeof(hex));
    if (rc != DS_OK)
        log_error("keys: malformed key file path=%s", path);
    return rc;
}

int keys_load(const char *dir, struct keys *keys_out)
{
    struct keys k;
    int rc = read_secret(dir, "sign.secret", k.sign_sk, sizeof(k.sign_sk));
    if (rc == DS_OK)
        rc = read_secret(dir, "curve.secret", k.curve_sk, sizeof(k.curve_sk));
    if (rc != DS_OK)
        return rc;
    crypto_sign_ed25519_sk_to_pk(k.sign_pk, k.sign_sk);
    crypto_scalarmult_base(k.curve_pk, k.curve_sk);
    *keys_out = k;
    sodium_memzero(&k, sizeof(k));
    return DS_OK;
}

void keys_sign(const struct keys *keys, const void *msg, size_t len, uint8_t sig_out[KEYS_SIG_LEN])
{
    crypto_sign_detached(sig_out, NULL, msg, len, keys->sign_sk);
}

bool keys_verify(const uint8_t pub[KEYS_PUB_LEN], const void *msg, size_t len,
                 const uint8_t sig[KEYS_SIG_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pub) == 0;
}

void keys_digest(const void *data, size_t len, uint8_t out[KEYS_DIGEST_LEN])
{
    crypto_generichash(out, KEYS_DIGEST_LEN, data, len, NULL, 0);
}

void keys_hex(const uint8_t *bin, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, bin, n);
}

int keys_unhex(const char *hex, uint8_t *bin_out, size_t n)
{
    size_t got = 0;
    if (strlen(hex) != 2 * n)
        return DS_EINVAL;
    if (sodium_hex2bin(bin_out, n, hex, 2 * n, NULL, &got, NULL) != 0 || got != n)
        return DS_EINVAL;
    return DS_OK;
}

void keys_fingerprint(const uint8_t curve[KEYS_PUB_LEN], const uint8_t sign[KEYS_PUB_LEN],
                      char out[KEYS_FINGERPRINT_LEN])
{
    enum { BYTES = 16 };
    uint8_t both[2 * KEYS_PUB_LEN], digest[KEYS_DIGEST_LEN];
    char hex[2 * BYTES + 1];
    memcpy(both, curve, KEYS_PUB_LEN);
    memcpy(both + KEYS_PUB_LEN, sign, KEYS_PUB_LEN);
    keys_digest(both, sizeof(both), digest);
    keys_hex(digest, BYTES, hex);
    char *o = out;
    for (size_t i = 0; i < 2 * BYTES; i++) {
        if (i && i % 4 == 0)
            *o++ = ' ';
        *o++ = hex[i];
    }
    *o = '\0';
}
