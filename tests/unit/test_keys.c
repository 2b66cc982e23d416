/* Unit tests of keys: signatures, key files on disk (a temp dir per test) and hex. Key files
 * are secrets, so their modes are part of the contract and checked here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "keyring.h"
#include "keys.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char msg[] = "\xe4\xbb\x8b\xe7\xbb\x8d\xe4\xbf\xa1 introduction letter";

static void test_keys_sign_verify(void **state)
{
    struct keys k, other;
    uint8_t sig[KEYS_SIG_LEN];
    (void)state;
    keys_generate(&k);
    keys_generate(&other);
    assert_memory_not_equal(k.sign_pk, other.sign_pk, KEYS_PUB_LEN);
    assert_memory_not_equal(k.curve_pk, other.curve_pk, KEYS_PUB_LEN);
    keys_sign(&k, msg, sizeof(msg), sig);
    assert_true(keys_verify(k.sign_pk, msg, sizeof(msg), sig));
    assert_false(keys_verify(other.sign_pk, msg, sizeof(msg), sig));
    assert_false(keys_verify(k.sign_pk, msg, sizeof(msg) - 1, sig));
    /* Empty messages sign and verify too. */
    keys_sign(&k, "", 0, sig);
    assert_true(keys_verify(k.sign_pk, "", 0, sig));
}

static void test_keys_verify_fails_on_flipped_bit(void **state)
{
    struct keys k;
    uint8_t sig[KEYS_SIG_LEN], bad[KEYS_SIG_LEN];
    char copy[sizeof(msg)];
    (void)state;
    keys_generate(&k);
    keys_sign(&k, msg, sizeof(msg), sig);
    for (size_t bit = 0; bit < 8 * sizeof(msg); bit++) {
        memcpy(copy, msg, sizeof(msg));
        copy[bit / 8] = (char)(copy[bit / 8] ^ (1 << (bit % 8)));
        if (keys_verify(k.sign_pk, copy, sizeof(copy), sig))
            fail_msg("verified a message with bit %zu flipped", bit);
    }
    for (size_t bit = 0; bit < 8 * KEYS_SIG_LEN; bit++) {
        memcpy(bad, sig, sizeof(sig));
        bad[bit / 8] = (uint8_t)(bad[bit / 8] ^ (1u << (bit % 8)));
        if (keys_verify(k.sign_pk, msg, sizeof(msg), bad))
            fail_msg("verified a signature with bit %zu flipped", bit);
    }
}

static void test_keys_save_load_round_trip(void **state)
{
    const char *dir = *state;
    struct keys k, loaded;
    keys_generate(&k);
    assert_rc(keys_save(dir, &k), DS_OK);
    memset(&loaded, 0, sizeof(loaded));
    assert_rc(keys_load(dir, &loaded), DS_OK);
    assert_memory_equal(loaded.sign_sk, k.sign_sk, KEYS_SIGN_SECRET_LEN);
    assert_memory_equal(loaded.curve_sk, k.curve_sk, KEYS_CURVE_SECRET_LEN);
    /* The public halves are derived on load, and match the generated ones. */
    assert_memory_equal(loaded.sign_pk, k.sign_pk, KEYS_PUB_LEN);
    assert_memory_equal(loaded.curve_pk, k.curve_pk, KEYS_PUB_LEN);
    /* The loaded keys sign what the original public key verifies. */
    uint8_t sig[KEYS_SIG_LEN];
    keys_sign(&loaded, msg, sizeof(msg), sig);
    assert_true(keys_verify(k.sign_pk, msg, sizeof(msg), sig));
}

static void test_keys_file_modes(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX + 64];
    struct keys k;
    struct stat st;
    keys_generate(&k);
    assert_rc(keys_save(dir, &k), DS_OK);
    snprintf(path, sizeof(path), "%s/keys", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    static const char *const files[] = {"sign.secret", "curve.secret"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/keys/%s", dir, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);
        /* No temp file left behind by the atomic write. */
        snprintf(path, sizeof(path), "%s/keys/%s.tmp", dir, files[i]);
        assert_int_not_equal(access(path, F_OK), 0);
    }
}

static void test_keys_save_twice_eexist(void **state)
{
    const char *dir = *state;
    struct keys first, second, loaded;
    keys_generate(&first);
    keys_generate(&second);
    assert_rc(keys_save(dir, &first), DS_OK);
    assert_rc(keys_save(dir, &second), DS_EEXIST);
    /* The identity is never overwritten. */
    assert_rc(keys_load(dir, &loaded), DS_OK);
    assert_memory_equal(loaded.sign_sk, first.sign_sk, KEYS_SIGN_SECRET_LEN);
    assert_memory_equal(loaded.curve_sk, first.curve_sk, KEYS_CURVE_SECRET_LEN);
}

static void test_keys_load_missing_notfound(void **state)
{
    const char *dir = *state;
    struct keys k;
    assert_rc(keys_load(dir, &k), DS_ENOTFOUND);
}

static void test_keys_load_malformed_einval(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX + 64];
    struct keys k, out;
    keys_generate(&k);
    assert_rc(keys_save(dir, &k), DS_OK);
    snprintf(path, sizeof(path), "%s/keys/sign.secret", dir);
    tu_write_file(path, "not hex at all\n");
    memset(&out, 0xAB, sizeof(out));
    assert_rc(keys_load(dir, &out), DS_EINVAL);
    /* Too short but valid hex. */
    tu_write_file(path, "00ff\n");
    assert_rc(keys_load(dir, &out), DS_EINVAL);
    /* *keys_out is not written on failure. */
    for (size_t i = 0; i < KEYS_PUB_LEN; i++)
        assert_int_equal(out.sign_pk[i], 0xAB);
}

static void test_keys_hex_round_trip(void **state)
{
    uint8_t bin[256], back[256];
    char hex[2 * sizeof(bin) + 1];
    (void)state;
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)i;
    keys_hex(bin, sizeof(bin), hex);
    assert_int_equal(strlen(hex), 2 * sizeof(bin));
    assert_memory_equal(hex, "000102", 6);
    assert_string_equal(hex + 2 * 250, "fafbfcfdfeff"); /* lower case */
    assert_rc(keys_unhex(hex, back, sizeof(back)), DS_OK);
    assert_memory_equal(back, bin, sizeof(bin));

    const uint8_t three[] = {0x00, 0xab, 0xff};
    char small[7];
    keys_hex(three, 3, small);
    assert_string_equal(small, "00abff");
}

static void test_keys_unhex_rejects_bad_hex(void **state)
{
    uint8_t out[4];
    (void)state;
    assert_rc(keys_unhex("0011223", out, 4), DS_EINVAL);    /* odd length */
    assert_rc(keys_unhex("001122", out, 4), DS_EINVAL);     /* too short */
    assert_rc(keys_unhex("0011223344", out, 4), DS_EINVAL); /* too long */
    assert_rc(keys_unhex("zz112233", out, 4), DS_EINVAL);
    assert_rc(keys_unhex("0g112233", out, 4), DS_EINVAL);
    assert_rc(keys_unhex(" 0112233", out, 4), DS_EINVAL);
    assert_rc(keys_unhex("00:11:22", out, 4), DS_EINVAL);
    assert_rc(keys_unhex("", out, 4), DS_EINVAL);
    assert_rc(keys_unhex("deadbeef", out, 4), DS_OK);
    assert_int_equal(out[0], 0xde);
    assert_int_equal(out[3], 0xef);
}

/* The fingerprint people compare by phone: BLAKE2b-256 of curve || sign, first 16 bytes,
 * grouped by 4 hex digits (the value below is Python's hashlib.blake2b of bytes 0..63). */
static void test_keys_fingerprint_known_value(void **state)
{
    (void)state;
    uint8_t curve[KEYS_PUB_LEN], sign[KEYS_PUB_LEN];
    char fp[KEYS_FINGERPRINT_LEN];
    for (size_t i = 0; i < KEYS_PUB_LEN; i++) {
        curve[i] = (uint8_t)i;
        sign[i] = (uint8_t)(KEYS_PUB_LEN + i);
    }
    keys_fingerprint(curve, sign, fp);
    assert_string_equal(fp, "10d8 e6d5 34b0 0939 843f e9dc c4da e48c");
    sign[0] ^= 1;
    keys_fingerprint(curve, sign, fp);
    assert_string_not_equal(fp, "10d8 e6d5 34b0 0939 843f e9dc c4da e48c");
}

static void test_keys_digest_blake2b_256(void **state)
{
    uint8_t d[KEYS_DIGEST_LEN];
    char hex[2 * KEYS_DIGEST_LEN + 1];
    (void)state;
    /* Known answers: BLAKE2b with a 32-byte digest. */
    keys_digest("", 0, d);
    keys_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    keys_digest("abc", 3, d);
    keys_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static int setup_crypto(void **state)
{
    (void)state;
    return keys_crypto_init() == DS_OK ? 0 : -1;
}

/* A rotation swaps the whole pair at once and leaves no copy of the old secrets. */
static void test_keys_replace(void **state)
{
    const char *dir = *state;
    struct keys old, next, loaded;
    char path[4200];
    keys_generate(&old);
    keys_generate(&next);
    assert_rc(keys_save(dir, &old), DS_OK);
    assert_rc(keys_replace(dir, &next), DS_OK);
    assert_rc(keys_load(dir, &loaded), DS_OK);
    assert_memory_equal(loaded.sign_pk, next.sign_pk, KEYS_PUB_LEN);
    assert_memory_equal(loaded.curve_pk, next.curve_pk, KEYS_PUB_LEN);
    snprintf(path, sizeof(path), "%s/keys.next", dir);
    assert_int_equal(access(path, F_OK), -1); /* the old pair is gone */
    struct stat st;
    snprintf(path, sizeof(path), "%s/keys", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

/* Each event is checked with the key of its era, never with any key the org once had. */
static void test_keyring_eras(void **state)
{
    (void)state;
    uint8_t a[KEYS_PUB_LEN] = {1}, b[KEYS_PUB_LEN] = {2}, c[KEYS_PUB_LEN] = {3};
    struct keyring r;
    keyring_init(&r, a);
    assert_ptr_equal(keyring_for(&r, 1), r.era[0].sign_key);
    assert_rc(keyring_rotate(&r, b, 10), DS_OK);
    assert_rc(keyring_rotate(&r, c, 1), DS_EINVAL); /* not after the first era */
    /* c from 10 as well: b signed nothing (the caller vouches), its era never began */
    assert_rc(keyring_rotate(&r, c, 10), DS_OK);
    assert_int_equal(r.n, 2);
    assert_memory_equal(keyring_for(&r, 10), c, KEYS_PUB_LEN);
    struct keyring copy = r;
    assert_rc(keyring_rotate(&copy, a, 20), DS_EEXIST); /* a key that comes back */
    keyring_init(&r, a);
    assert_rc(keyring_rotate(&r, b, 10), DS_OK);
    assert_rc(keyring_rotate(&r, c, 20), DS_OK);
    assert_memory_equal(keyring_for(&r, 9), a, KEYS_PUB_LEN);
    assert_memory_equal(keyring_for(&r, 10), b, KEYS_PUB_LEN);
    assert_memory_equal(keyring_for(&r, 19), b, KEYS_PUB_LEN);
    assert_memory_equal(keyring_for(&r, 20), c, KEYS_PUB_LEN);
    assert_memory_equal(keyring_current(&r), c, KEYS_PUB_LEN);

    /* through a directory entry and back */
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    Dualsync__PastKey past[KEYRING_MAX], *ptrs[KEYRING_MAX];
    struct keyring back;
    keyring_to_entry(&r, &d, past, ptrs);
    assert_int_equal(d.n_past_keys, 2);
    assert_int_equal(d.key_from, 20);
    assert_rc(keyring_from_entry(&d, &back), DS_OK);
    assert_int_equal(back.n, 3);
    assert_memory_equal(&back, &r, sizeof(r));
    past[1].from_seq = 25; /* eras out of order: refused */
    assert_rc(keyring_from_entry(&d, &back), DS_EINVAL);
}

/* The rotation statement binds the org, both new keys and key_from to the old key. */
static void test_keyring_rotation_statement(void **state)
{
    (void)state;
    struct keys old, next, other;
    uint8_t sig[KEYS_SIG_LEN];
    keys_generate(&old);
    keys_generate(&next);
    keys_generate(&other);
    keyring_rotation_sign(&old, "unit:tax", next.curve_pk, next.sign_pk, 42, sig);
    assert_true(
        keyring_rotation_verify(old.sign_pk, "unit:tax", next.curve_pk, next.sign_pk, 42, sig));
    assert_false(
        keyring_rotation_verify(other.sign_pk, "unit:tax", next.curve_pk, next.sign_pk, 42, sig));
    assert_false(
        keyring_rotation_verify(old.sign_pk, "unit:tab", next.curve_pk, next.sign_pk, 42, sig));
    assert_false(
        keyring_rotation_verify(old.sign_pk, "unit:tax", other.curve_pk, next.sign_pk, 42, sig));
    assert_false(
        keyring_rotation_verify(old.sign_pk, "unit:tax", next.curve_pk, next.sign_pk, 43, sig));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_sign_verify),
        cmocka_unit_test(test_keys_verify_fails_on_flipped_bit),
        tu_test_tmpdir(test_keys_save_load_round_trip),
        tu_test_tmpdir(test_keys_file_modes),
        tu_test_tmpdir(test_keys_save_twice_eexist),
        tu_test_tmpdir(test_keys_load_missing_notfound),
        tu_test_tmpdir(test_keys_load_malformed_einval),
        cmocka_unit_test(test_keys_hex_round_trip),
        cmocka_unit_test(test_keys_unhex_rejects_bad_hex),
        cmocka_unit_test(test_keys_digest_blake2b_256),
        cmocka_unit_test(test_keys_fingerprint_known_value),
        tu_test_tmpdir(test_keys_replace),
        cmocka_unit_test(test_keyring_eras),
        cmocka_unit_test(test_keyring_rotation_statement),
    };
    return cmocka_run_group_tests(tests, setup_crypto, NULL);
}
