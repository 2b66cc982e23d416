/* Unit tests of the broker's inbox bookkeeping (broker/inbox.c, broker/receipts.c), on a
 * real RocksDB in a temp directory per test. The broker is a bare one (broker_new: a log,
 * an empty directory, a window of 64, a fake clock) with no transport: the transport's send is
 * wrapped (-Wl,--wrap=transport_send_peer), recording what the one test with a connected peer is
 * sent and failing any other test that sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_fixture.h"
#include "directory.h"
#include "inbox.h"
#include "protocol.h"
#include "receipts.h"
#include "btxn.h"
#include "fault.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORG_A "community:hy-03"
#define ORG_B "unit:tax-bureau"
#define STREET "street:jinyu"

/* What a test with a connected peer was sent (copies of the DELIVERs' events). */
#define SENT_MAX 128
static struct {
    bool on;
    size_t n;
    size_t frames;
    size_t frame_n[8]; /* events in each of the first frames */
    uint8_t *raw[SENT_MAX];
    size_t len[SENT_MAX];
} sent;

int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len);
int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len)
{
    (void)t;
    (void)peer;
    if (!sent.on)
        fail_msg("transport_send_peer: no peer is connected in this test");
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    assert_non_null(f);
    assert_int_equal(f->kind_case, DUALSYNC__FRAME__KIND_DELIVER);
    if (sent.frames < 8)
        sent.frame_n[sent.frames] = f->deliver->n_events;
    sent.frames++;
    for (size_t i = 0; i < f->deliver->n_events && sent.n < SENT_MAX; i++, sent.n++) {
        sent.len[sent.n] = f->deliver->events[i].len;
        sent.raw[sent.n] = malloc(sent.len[sent.n]);
        memcpy(sent.raw[sent.n], f->deliver->events[i].data, sent.len[sent.n]);
    }
    wire_frame_free(f);
    return DS_OK;
}

static uint64_t fake_now_ms = 1000000;

static uint64_t fake_clock(void)
{
    return fake_now_ms;
}

/* A broker with an empty directory (the inbox is pumped at once), no deferred folds, the
 * fake clock and a window of 64. */
static struct broker *broker_open_bare(const char *dir)
{
    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    return bf_open_log(log, STREET, fake_clock);
}

/* Deletes an event's own row, so that only a copy elsewhere can still deliver it. */
static void delete_event_row(struct broker *b, const char *origin, uint64_t seq)
{
    struct store_batch *del = store_batch_new(eventlog_store(broker_log(b)));
    struct skey key;
    skey_init(&key);
    skey_str(&key, origin);
    skey_u64(&key, seq);
    store_batch_delete(del, CF_EVENTS, &key);
    assert_rc(store_commit(eventlog_store(broker_log(b)), del), DS_OK);
    store_batch_destroy(&del);
}

static uint64_t stored_head(struct broker *b, const char *org)
{
    char name[IDS_ORG_MAX + 8];
    uint64_t v = 0;
    snprintf(name, sizeof(name), "head/%s", org);
    assert_rc(eventlog_meta_u64(broker_log(b), name, 0, &v), DS_OK);
    return v;
}

/* Appends to org's inbox the entry of ev as a broker of 2026-11-29..12-04 wrote a letter's
 * entry: the reference followed by the event's bytes (raw, len). */
static void append_carrying(struct broker *b, struct eventlog_txn *txn, struct strmap *pending,
                            const char *org, const struct event *ev, const uint8_t *raw, size_t len)
{
    inbox_append(b, txn, pending, org, ev->origin, ev->seq);
    struct skey k, v;
    skey_init(&k);
    skey_str(&k, org);
    skey_u64(&k, inbox_pending_head(strmap_get(pending, org)));
    skey_init(&v);
    skey_str(&v, ev->origin);
    skey_u64(&v, ev->seq);
    uint8_t *val = malloc(v.n + len);
    assert_non_null(val);
    memcpy(val, v.b, v.n);
    memcpy(val + v.n, raw, len);
    store_batch_put(eventlog_txn_batch(txn), CF_INBOX, &k, val, v.n + len);
    free(val);
}

/* The inbox seqs of org's stored entries, in order, with their (origin, seq) checked. */
static size_t stored_entries(struct broker *b, const char *org, const char *origin,
                             uint64_t first_seq)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, org);
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_INBOX, &prefix, NULL);
    size_t n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = store_iter_key(it, &klen);
        const uint8_t *v = store_iter_value(it, &vlen);
        assert_int_equal(klen, prefix.n + 8);
        assert_true(store_get_u64be(k + prefix.n) == n + 1);
        assert_int_equal(vlen, strlen(origin) + 1 + 8);
        assert_string_equal((const char *)v, origin);
        assert_true(store_get_u64be(v + vlen - 8) == first_seq + n);
        n++;
    }
    assert_rc(store_iter_status(it), DS_OK);
    store_iter_destroy(&it);
    return n;
}

/* A welcomed peer for org, as a session right after its HELLO. */
static void welcomed_peer(struct peer *p, const char *org)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->addr.org, sizeof(p->addr.org), "%s", org);
    p->welcomed = true;
}

/* N entries to one org in one transaction write its head once, not N times, and that one
 * write is in the same batch as the entries. */
static void test_inbox_head_written_once_per_txn(void **state)
{
    const char *dir = *state;
    struct broker *b;
    b = broker_open_bare(dir);

    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    for (uint64_t i = 0; i < 5; i++)
        inbox_append(b, txn, pending, ORG_A, "street:s", 10 + i);
    for (uint64_t i = 0; i < 2; i++)
        inbox_append(b, txn, pending, ORG_B, "street:s", 20 + i);
    struct store_batch *batch = eventlog_txn_batch(txn);
    assert_int_equal(store_batch_count(batch), 7); /* the entries only */
    inbox_stage_heads(b, txn, pending);
    assert_int_equal(store_batch_count(batch), 7 + 2); /* one head per org */
    assert_true(stored_head(b, ORG_A) == 0);           /* nothing before the commit */
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);

    assert_true(stored_head(b, ORG_A) == 5);
    assert_true(stored_head(b, ORG_B) == 2);
    assert_true(inbox_head(b, ORG_A) == 5);
    assert_int_equal(stored_entries(b, ORG_A, "street:s", 10), 5);
    assert_int_equal(stored_entries(b, ORG_B, "street:s", 20), 2);

    /* The next transaction continues from the head, again with one head write. */
    txn = eventlog_begin(broker_log(b));
    pending = strmap_new();
    for (uint64_t i = 0; i < 3; i++)
        inbox_append(b, txn, pending, ORG_A, "street:s", 15 + i);
    inbox_stage_heads(b, txn, pending);
    assert_int_equal(store_batch_count(eventlog_txn_batch(txn)), 3 + 1);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);
    assert_true(inbox_head(b, ORG_A) == 8);
    broker_close(&b);

    /* After a restart (no cached heads) the head comes from the store. */
    b = broker_open_bare(dir);
    assert_true(inbox_head(b, ORG_A) == 8);
    assert_true(inbox_head(b, ORG_B) == 2);
    assert_int_equal(stored_entries(b, ORG_A, "street:s", 10), 8);
    broker_close(&b);
}

/* An aborted transaction moves no head, durable or cached. */
static void test_inbox_abort_moves_no_head(void **state)
{
    const char *dir = *state;
    struct broker *b;
    b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    inbox_append(b, txn, pending, ORG_A, "street:s", 1);
    inbox_stage_heads(b, txn, pending);
    eventlog_abort(&txn);
    strmap_destroy(&pending, inbox_pending_free);
    assert_true(inbox_head(b, ORG_A) == 0);
    assert_true(stored_head(b, ORG_A) == 0);
    assert_int_equal(stored_entries(b, ORG_A, "street:s", 1), 0);
    broker_close(&b);
}

/* One broker transaction (btxn): its heads are durable with its entries and move in
 * memory only once the commit returned. A commit that fails leaves nothing: no event, no
 * entry, no head on disk or in memory; the same work then commits whole. */
static void test_inbox_btxn_moves_heads_only_after_its_commit(void **state)
{
    const char *dir = *state;
    struct broker *b;
    struct keys k;
    struct tu_event e;
    keys_generate(&k);
    tu_event_intro(&e, &k, ORG_B, 1, 100, "M1", ORG_A, "Li", 30, "2026-01-05");
    b = broker_open_bare(dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        struct btxn t;
        btxn_begin(b, &t);
        assert_rc(eventlog_txn_add(t.log, &e.ev, 0), DS_OK);
        btxn_append(&t, ORG_A, ORG_B, 1);
        btxn_append(&t, ORG_B, STREET, 1);
        assert_true(inbox_head(b, ORG_A) == 0); /* appended, not yet committed */
        fault_fail_commits(attempt == 0 ? 1 : 0);
        int rc = btxn_commit(&t);
        assert_null(t.log);
        assert_null(t.heads);
        uint64_t want = attempt == 0 ? 0 : 1;
        assert_rc(rc, attempt == 0 ? DS_EIO : DS_OK);
        assert_true(eventlog_hwm(broker_log(b), ORG_B) == want);
        assert_true(inbox_head(b, ORG_A) == want);
        assert_true(inbox_head(b, ORG_B) == want);
        assert_true(stored_head(b, ORG_A) == want);
        assert_true(stored_head(b, ORG_B) == want);
    }
    /* an aborted one writes nothing */
    struct btxn t;
    btxn_begin(b, &t);
    btxn_append(&t, ORG_A, STREET, 2);
    btxn_abort(&t);
    btxn_abort(&t); /* harmless twice */
    assert_true(inbox_head(b, ORG_A) == 1);
    assert_true(stored_head(b, ORG_A) == 1);
    /* Each begins with an empty map of pending heads (the inbox keeps one emptied map for
     * the next transaction): two open at once get two, and neither sees the other's. */
    struct btxn t2;
    btxn_begin(b, &t);
    btxn_begin(b, &t2);
    assert_ptr_not_equal(t.heads, t2.heads);
    btxn_append(&t, ORG_A, STREET, 2);
    btxn_append(&t2, ORG_B, STREET, 2);
    btxn_append(&t2, ORG_B, STREET, 3);
    assert_rc(btxn_commit(&t2), DS_OK);
    assert_rc(btxn_commit(&t), DS_OK);
    assert_true(inbox_head(b, ORG_A) == 2 && stored_head(b, ORG_A) == 2);
    assert_true(inbox_head(b, ORG_B) == 3 && stored_head(b, ORG_B) == 3);
    broker_close(&b);
    tu_event_free(&e);
}

/* A letter's entry is a reference (origin, seq) and is delivered through a point read; an
 * entry an older broker wrote with the letter's bytes after the reference is delivered
 * from them (even with the event's own row gone, which no code does: it proves no point
 * read is made). */
static void test_inbox_entries_are_references(void **state)
{
    const char *dir = *state;
    struct broker *b;
    struct keys k;
    struct tu_event e1, e2;
    keys_generate(&k);
    tu_event_intro(&e1, &k, ORG_B, 1, 100, "M1", ORG_A, "Li", 30, "2026-01-05");
    tu_event_intro(&e2, &k, ORG_B, 2, 101, "M2", ORG_A, "Wang", 30, "2026-01-05");
    b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    assert_rc(eventlog_txn_add(txn, &e1.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &e2.ev, 0), DS_OK);
    inbox_append(b, txn, pending, ORG_A, ORG_B, 1);
    append_carrying(b, txn, pending, ORG_A, &e2.ev, e2.raw, e2.len);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL); /* no session: nothing is pumped yet */
    strmap_destroy(&pending, inbox_pending_free);

    struct skey key;
    void *v = NULL;
    size_t vlen = 0;
    skey_init(&key);
    skey_str(&key, ORG_A);
    skey_u64(&key, 1);
    assert_rc(store_get(eventlog_store(broker_log(b)), CF_INBOX, &key, &v, &vlen), DS_OK);
    assert_int_equal(vlen, strlen(ORG_B) + 1 + 8); /* the reference alone */
    free(v);
    delete_event_row(b, ORG_B, 2);

    struct peer p;
    welcomed_peer(&p, ORG_A);
    sent.on = true;
    inbox_pump(b, &p);
    sent.on = false;
    assert_int_equal(sent.n, 2);
    assert_true(p.delivered == 2);
    assert_int_equal(sent.len[0], e1.len);
    assert_memory_equal(sent.raw[0], e1.raw, e1.len);
    assert_int_equal(sent.len[1], e2.len);
    assert_memory_equal(sent.raw[1], e2.raw, e2.len);
    for (size_t i = 0; i < sent.n; i++)
        free(sent.raw[i]);
    sent.n = 0;
    broker_close(&b);
    tu_event_free(&e1);
    tu_event_free(&e2);
}

/* An erasure reaches the inbox: an entry of an older store that carries a letter about the
 * member keeps its bytes (delivery reads no other row) but loses the personal part at the
 * scrub; a letter about the member stored after the erasure is a reference to its row,
 * which the log stores without the part. */
static void test_inbox_scrub_strips_erased_letters(void **state)
{
    const char *dir = *state;
    struct broker *b;
    struct keys k;
    struct tu_event intro, other, late;
    keys_generate(&k);
    tu_event_intro(&intro, &k, ORG_B, 1, 100, "M1", ORG_A, "erase-me-name", 30, "2026-01-05");
    tu_event_intro(&other, &k, ORG_B, 2, 101, "M2", ORG_A, "keep-me-name", 30, "2026-01-05");
    tu_event_intro(&late, &k, ORG_B, 3, 102, "M1", ORG_A, "late-name", 30, "2026-01-05");
    b = broker_open_bare(dir);
    eventlog_on_scrub(broker_log(b), inbox_scrub, NULL);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    assert_rc(eventlog_txn_add(txn, &intro.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &other.ev, 0), DS_OK);
    append_carrying(b, txn, pending, ORG_A, &intro.ev, intro.raw, intro.len);
    append_carrying(b, txn, pending, ORG_A, &other.ev, other.raw, other.len);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);

    txn = eventlog_begin(broker_log(b));
    pending = strmap_new();
    assert_rc(eventlog_txn_redact_member(txn, "M1", UINT64_MAX, NULL), DS_OK);
    assert_rc(eventlog_txn_add(txn, &late.ev, 0), DS_OK);
    inbox_append(b, txn, pending, ORG_A, ORG_B, 3);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);
    assert_rc(eventlog_scrub_wait(broker_log(b)), DS_OK);

    const char *want[3] = {NULL, "keep-me-name", NULL},
               *gone[3] = {"erase-me-name", NULL, "late-name"};
    for (uint64_t seq = 1; seq <= 3; seq++) {
        struct skey key;
        void *v = NULL;
        size_t vlen = 0;
        skey_init(&key);
        skey_str(&key, ORG_A);
        skey_u64(&key, seq);
        assert_rc(store_get(eventlog_store(broker_log(b)), CF_INBOX, &key, &v, &vlen), DS_OK);
        bool has_gone = false, has_want = false;
        for (size_t i = 0; i + 8 <= vlen; i++) {
            has_gone |= gone[seq - 1] && memcmp((char *)v + i, gone[seq - 1], 8) == 0;
            has_want |= want[seq - 1] && memcmp((char *)v + i, want[seq - 1], 8) == 0;
        }
        assert_false(has_gone);
        assert_true(has_want == (want[seq - 1] != NULL));
        if (seq < 3)
            assert_true(vlen > 64); /* still carries the event's bytes */
        else
            assert_int_equal(vlen, strlen(ORG_B) + 1 + 8); /* a reference */
        free(v);
    }
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_rc(eventlog_get_raw(broker_log(b), ORG_B, 3, &raw, &len), DS_OK);
    for (size_t i = 0; i + 9 <= len; i++)
        assert_false(memcmp(raw + i, "late-name", 9) == 0);
    free(raw);
    broker_close(&b);
    tu_event_free(&intro);
    tu_event_free(&other);
    tu_event_free(&late);
}

/* Directory entries point at the street's events, and every org's inbox holds them all:
 * the broker reads each street event from RocksDB once and serves it from memory after,
 * so the second org gets it even with its row deleted in between. */
static void test_inbox_street_events_read_once(void **state)
{
    const char *dir = *state;
    struct broker *b;
    struct keys k;
    struct tu_event card;
    keys_generate(&k);
    tu_event_intro(&card, &k, STREET, 1, 100, "M1", ORG_A, "Li", 30, "2026-01-05");
    b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    assert_rc(eventlog_txn_add(txn, &card.ev, 0), DS_OK);
    inbox_append(b, txn, pending, ORG_A, STREET, 1);
    inbox_append(b, txn, pending, ORG_B, STREET, 1);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);

    const char *orgs[2] = {ORG_A, ORG_B};
    for (int i = 0; i < 2; i++) {
        struct peer p;
        welcomed_peer(&p, orgs[i]);
        sent.on = true;
        inbox_pump(b, &p);
        sent.on = false;
        assert_int_equal(sent.n, 1);
        assert_int_equal(sent.len[0], card.len);
        assert_memory_equal(sent.raw[0], card.raw, card.len);
        free(sent.raw[0]);
        sent.n = 0;
        if (i == 0)
            delete_event_row(b, STREET, 1); /* only the broker's memory still has it */
    }
    broker_close(&b);
    tu_event_free(&card);
}

/* Forgets what the test's peer was sent. */
static void sent_clear(void)
{
    for (size_t i = 0; i < sent.n; i++)
        free(sent.raw[i]);
    sent.n = sent.frames = 0;
}

/* A recipient that fell behind is served from the store by chunks of batched reads: a
 * window of 64 entries from two authors interleaved, some carrying their letter (an older
 * store) and one the street's, arrives complete and in inbox order, twice over. */
static void test_inbox_behind_reads_in_chunks(void **state)
{
    enum { N = 128 };
    const char *dir = *state;
    struct keys k;
    keys_generate(&k);
    static struct tu_event ev[N];
    struct broker *b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    for (int i = 0; i < N; i++) {
        char member[16];
        snprintf(member, sizeof(member), "M%d", i);
        const char *origin = i == 40 ? STREET : i % 2 ? ORG_B : "unit:water-works";
        uint64_t seq = i == 40 ? 1 : (uint64_t)(i / 2 + 1);
        tu_event_intro(&ev[i], &k, origin, seq, 100 + (uint64_t)i, member, ORG_A, "Li", 30,
                       "2026-01-05");
        assert_rc(eventlog_txn_add(txn, &ev[i].ev, 0), DS_OK);
        if (i % 10 == 3)
            append_carrying(b, txn, pending, ORG_A, &ev[i].ev, ev[i].raw, ev[i].len);
        else
            inbox_append(b, txn, pending, ORG_A, origin, seq);
    }
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);

    struct peer p;
    welcomed_peer(&p, ORG_A);
    sent.on = true;
    inbox_pump(b, &p); /* the window: 64 */
    p.confirmed = p.delivered;
    inbox_sent_confirmed(&p, p.confirmed);
    inbox_pump(b, &p);
    sent.on = false;
    assert_int_equal(sent.n, N);
    assert_true(p.delivered == N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(sent.len[i], ev[i].len);
        assert_memory_equal(sent.raw[i], ev[i].raw, ev[i].len);
    }
    sent_clear();
    broker_close(&b);
    for (int i = 0; i < N; i++)
        tu_event_free(&ev[i]);
}

/* A frame stops at the first event that reaches the frame's byte budget, as when each
 * event was read alone: letters of 40,000 bytes go 27 to a frame (26 are under 1 MiB). */
static void test_inbox_behind_frame_budget(void **state)
{
    enum { N = 40, NAME = 40000 };
    const char *dir = *state;
    struct keys k;
    keys_generate(&k);
    static struct tu_event ev[N];
    char *name = malloc(NAME + 1);
    assert_non_null(name);
    memset(name, 'x', NAME);
    name[NAME] = '\0';
    struct broker *b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    for (int i = 0; i < N; i++) {
        char member[16];
        snprintf(member, sizeof(member), "M%d", i);
        tu_event_intro(&ev[i], &k, ORG_B, (uint64_t)i + 1, 100 + (uint64_t)i, member, ORG_A, name,
                       30, "2026-01-05");
        assert_rc(eventlog_txn_add(txn, &ev[i].ev, 0), DS_OK);
        inbox_append(b, txn, pending, ORG_A, ORG_B, (uint64_t)i + 1);
    }
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);

    size_t before = 0, in_first = 0;
    while (in_first < N && before < WIRE_FRAME_BUDGET)
        before += ev[in_first++].len;
    struct peer p;
    welcomed_peer(&p, ORG_A);
    sent.on = true;
    inbox_pump(b, &p);
    sent.on = false;
    assert_true(sent.frames >= 2);
    assert_true(p.delivered == N);
    assert_int_equal(sent.n, N);
    assert_int_equal(in_first, 27);
    assert_int_equal(sent.frame_n[0], in_first);
    for (int i = 0; i < N; i++)
        assert_memory_equal(sent.raw[i], ev[i].raw, ev[i].len);
    sent_clear();
    broker_close(&b);
    for (int i = 0; i < N; i++)
        tu_event_free(&ev[i]);
    free(name);
}

/* The age of what waits comes from the event an entry stands for, whether the entry
 * carries it (a letter in an older store) or points at it; a missing entry is
 * DS_ENOTFOUND and a pointer to nothing is DS_EIO. */
static void test_inbox_entry_hlc_both_kinds(void **state)
{
    const char *dir = *state;
    struct broker *b;
    struct keys k;
    struct tu_event letter, card, gone;
    uint64_t hlc = 0;
    keys_generate(&k);
    tu_event_intro(&letter, &k, ORG_B, 1, 7000, "M1", ORG_A, "Li", 30, "2026-01-05");
    tu_event_intro(&card, &k, STREET, 1, 5000, "M2", ORG_A, "Wang", 30, "2026-01-05");
    tu_event_intro(&gone, &k, STREET, 2, 6000, "M3", ORG_A, "Zhao", 30, "2026-01-05");
    b = broker_open_bare(dir);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    assert_rc(eventlog_txn_add(txn, &card.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &gone.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &letter.ev, 0), DS_OK);
    inbox_append(b, txn, pending, ORG_A, STREET, 1);
    append_carrying(b, txn, pending, ORG_A, &letter.ev, letter.raw, letter.len);
    inbox_append(b, txn, pending, ORG_A, STREET, 2);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);
    delete_event_row(b, STREET, 2);

    assert_rc(inbox_entry_hlc(b, ORG_A, 1, &hlc), DS_OK);
    assert_true(hlc == 5000);
    assert_rc(inbox_entry_hlc(b, ORG_A, 2, &hlc), DS_OK);
    assert_true(hlc == 7000);
    hlc = 1;
    assert_rc(inbox_entry_hlc(b, ORG_A, 3, &hlc), DS_EIO);
    assert_rc(inbox_entry_hlc(b, ORG_A, 4, &hlc), DS_ENOTFOUND);
    assert_rc(inbox_entry_hlc(b, ORG_B, 1, &hlc), DS_ENOTFOUND);
    assert_true(hlc == 1); /* written only on success */
    broker_close(&b);
    tu_event_free(&letter);
    tu_event_free(&card);
    tu_event_free(&gone);
}

/* Appends entries (origin, seq) to org's inbox in one commit, at the fake clock's now. */
static void append_committed(struct broker *b, const char *org, const char *origin,
                             const uint64_t *seqs, size_t n)
{
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct strmap *pending = strmap_new();
    for (size_t i = 0; i < n; i++)
        inbox_append(b, txn, pending, org, origin, seqs[i]);
    inbox_stage_heads(b, txn, pending);
    assert_rc(eventlog_commit(&txn), DS_OK);
    inbox_commit_heads(b, pending, NULL);
    strmap_destroy(&pending, inbox_pending_free);
}

static uint64_t receipt_of(struct broker *b, const char *origin, const char *recipient)
{
    json_t *j = receipts_json(b, origin);
    json_t *v = json_object_get(j, recipient);
    uint64_t upto = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    json_decref(j);
    return upto;
}

/* A recipient's cursor gives each origin its receipt: the highest seq of that origin
 * among the entries the recipient confirmed, never an entry beyond the cursor; the
 * receipts and the counted cursor survive a restart, and a silent org's lag is the age of
 * its oldest unconfirmed entry at the street. */
static void test_receipts_follow_the_cursor(void **state)
{
    const char *dir = *state;
    struct broker *b;
    const uint64_t unit_seqs[] = {3, 4, 5}, street_seqs[] = {1}, more[] = {6};
    b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    append_committed(b, ORG_A, ORG_B, unit_seqs, 2);    /* inbox 1, 2: unit 3, 4 */
    append_committed(b, ORG_A, STREET, street_seqs, 1); /* inbox 3 */
    fake_now_ms += 5000;
    append_committed(b, ORG_A, ORG_B, unit_seqs + 2, 1); /* inbox 4: unit 5 */

    receipts_confirmed(b, ORG_A, 3);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 4);
    assert_true(receipt_of(b, STREET, ORG_A) == 0); /* the directory's entries: no author */
    assert_true(receipts_cursor(b, ORG_A) == 3);
    uint64_t lag = 0;
    fake_now_ms += 2000;
    assert_rc(receipts_lag_ms(b, ORG_A, inbox_head(b, ORG_A), fake_now_ms, &lag), DS_OK);
    assert_true(lag == 2000); /* inbox 4 arrived 2 s ago, not 7 s */
    assert_rc(receipts_lag_ms(b, ORG_B, inbox_head(b, ORG_B), fake_now_ms, &lag), DS_OK);
    assert_true(lag == 0); /* nothing waits for B */
    receipts_save(b);      /* the broker stopping */
    broker_close(&b);

    /* After a restart nothing was said yet: the counted cursor stands, and so do receipts. */
    b = broker_open_bare(dir);
    assert_true(receipts_cursor(b, ORG_A) == 3);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 4);
    receipts_confirmed(b, ORG_A, 4);
    append_committed(b, ORG_A, ORG_B, more, 1);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 5);
    assert_rc(receipts_lag_ms(b, ORG_A, inbox_head(b, ORG_A), fake_now_ms, &lag), DS_OK);
    assert_true(lag == 0); /* inbox 5 arrived just now */
    broker_close(&b);
}

/* What the ticks count is stored once per RECEIPTS_SAVE_MS, not on every tick: a broker
 * that stops without saving (a crash) has its last save, and the recipient's next
 * confirmation walks the rest again to the same receipts; receipts_save (the broker
 * stopping) stores at once. */
static void test_receipts_saved_per_interval(void **state)
{
    const char *dir = *state;
    const uint64_t first[] = {3, 4}, second[] = {5}, third[] = {6};
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    append_committed(b, ORG_A, ORG_B, first, 2); /* inbox 1, 2 */
    receipts_confirmed(b, ORG_A, 2);
    receipts_tick(b); /* counted; the interval starts */
    assert_true(receipt_of(b, ORG_B, ORG_A) == 4);
    append_committed(b, ORG_A, ORG_B, second, 1); /* inbox 3 */
    receipts_confirmed(b, ORG_A, 3);
    fake_now_ms += RECEIPTS_SAVE_MS;
    receipts_tick(b);                            /* the interval passed: stored */
    append_committed(b, ORG_A, ORG_B, third, 1); /* inbox 4 */
    receipts_confirmed(b, ORG_A, 4);
    fake_now_ms += RECEIPTS_SAVE_MS - 1;
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 6); /* counted at once, not yet stored */
    broker_close(&b);                              /* a crash */

    b = broker_open_bare(dir);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 5);
    assert_true(receipts_cursor(b, ORG_A) == 3);
    receipts_confirmed(b, ORG_A, 4); /* its HELLO after the restart */
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 6);
    receipts_save(b); /* the broker stopping */
    broker_close(&b);

    b = broker_open_bare(dir);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 6);
    assert_true(receipts_cursor(b, ORG_A) == 4);
    broker_close(&b);
}

/* One origin's letters reach many recipients: each keeps its own receipt as the origin's
 * table of receipts grows past its first slots, and all of them are stored and read back
 * by name after a restart. */
static void test_receipts_of_many_recipients(void **state)
{
    const char *dir = *state;
    enum { MANY = 100 };
    char org[MANY][32];
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    for (uint64_t i = 0; i < MANY; i++) {
        const uint64_t seq[] = {10 + i};
        snprintf(org[i], sizeof(org[i]), "community:r-%02u", (unsigned)i);
        append_committed(b, org[i], ORG_B, seq, 1);
        receipts_confirmed(b, org[i], 1);
    }
    receipts_tick(b);
    for (uint64_t i = 0; i < MANY; i++)
        assert_true(receipt_of(b, ORG_B, org[i]) == 10 + i);
    receipts_save(b);
    broker_close(&b);

    b = broker_open_bare(dir);
    json_t *j = receipts_json(b, ORG_B);
    assert_int_equal(json_object_size(j), MANY);
    json_decref(j);
    for (uint64_t i = 0; i < MANY; i++)
        assert_true(receipt_of(b, ORG_B, org[i]) == 10 + i);
    broker_close(&b);
}

/* One tick walks several recipients: each recipient's receipts come from its own entries
 * only, up to its own cursor, whichever of them is walked first. */
static void test_receipts_one_tick_walks_each_recipient_alone(void **state)
{
    const char *dir = *state;
    const uint64_t from_b[] = {3, 4, 5}, from_a[] = {7, 8, 9};
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    append_committed(b, ORG_A, ORG_B, from_b, 3); /* A's inbox 1..3: B's 3, 4, 5 */
    append_committed(b, ORG_B, ORG_A, from_a, 3); /* B's inbox 1..3: A's 7, 8, 9 */
    receipts_confirmed(b, ORG_A, 1);
    receipts_confirmed(b, ORG_B, 2);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 3);
    assert_true(receipt_of(b, ORG_A, ORG_B) == 8);
    assert_true(receipts_cursor(b, ORG_A) == 1);
    assert_true(receipts_cursor(b, ORG_B) == 2);
    receipts_confirmed(b, ORG_A, 3);
    receipts_confirmed(b, ORG_B, 3);
    fake_now_ms += RECEIPTS_WALK_MS; /* walked lately: paced until then */
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 5);
    assert_true(receipt_of(b, ORG_A, ORG_B) == 9);
    broker_close(&b);
}

/* Deletes org's inbox entries first..last from the store (their rows only). */
static void delete_inbox_rows(struct broker *b, const char *org, uint64_t first, uint64_t last)
{
    struct store_batch *del = store_batch_new(eventlog_store(broker_log(b)));
    for (uint64_t at = first; at <= last; at++) {
        struct skey key;
        skey_init(&key);
        skey_str(&key, org);
        skey_u64(&key, at);
        store_batch_delete(del, CF_INBOX, &key);
    }
    assert_rc(store_commit(eventlog_store(broker_log(b)), del), DS_OK);
    store_batch_destroy(&del);
}

/* Entries committed while the broker runs are counted from memory: the walk does not read
 * them back (here their rows are gone from the store, and the receipts still move), up to
 * the cursor only, also when it stops inside one commit's entries. */
static void test_receipts_counted_from_the_commit(void **state)
{
    const char *dir = *state;
    const uint64_t from_b[] = {3, 4, 5};
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    append_committed(b, ORG_A, ORG_B, from_b, 3); /* A's inbox 1..3 */
    delete_inbox_rows(b, ORG_A, 1, 3);
    receipts_confirmed(b, ORG_A, 2);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 4);
    assert_true(receipts_cursor(b, ORG_A) == 2);
    receipts_confirmed(b, ORG_A, 3);
    fake_now_ms += RECEIPTS_WALK_MS;
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 5);
    broker_close(&b);
}

/* Entries stored before the broker started are read back from the store, and those
 * committed since from memory, in one walk that spans both. */
static void test_receipts_walk_the_store_then_memory(void **state)
{
    const char *dir = *state;
    const uint64_t before[] = {3, 4}, after[] = {5, 6};
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    append_committed(b, ORG_A, ORG_B, before, 2); /* inbox 1, 2: never confirmed */
    broker_close(&b);

    b = broker_open_bare(dir);
    append_committed(b, ORG_A, ORG_B, after, 2); /* inbox 3, 4 */
    receipts_confirmed(b, ORG_A, 1);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 3);
    receipts_confirmed(b, ORG_A, 3);
    fake_now_ms += RECEIPTS_WALK_MS;
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 5);
    receipts_confirmed(b, ORG_A, 4);
    fake_now_ms += RECEIPTS_WALK_MS;
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == 6);
    broker_close(&b);
}

/* A recipient that confirms nothing while more than RECEIPTS_KEPT_PER_RECIPIENT entries
 * reach it has them forgotten (memory stays bounded), and its walk reads them back from
 * the store: the receipts are the same. */
static void test_receipts_past_the_kept_bound_read_back(void **state)
{
    const char *dir = *state;
    enum { CHUNK = 100 };
    const uint64_t total = RECEIPTS_KEPT_PER_RECIPIENT + 2 * CHUNK;
    uint64_t seqs[CHUNK];
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    for (uint64_t done = 0; done < total; done += CHUNK) {
        for (size_t i = 0; i < CHUNK; i++)
            seqs[i] = done + i + 1;
        append_committed(b, ORG_A, ORG_B, seqs, CHUNK);
    }
    receipts_confirmed(b, ORG_A, total - 1);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == total - 1);
    receipts_confirmed(b, ORG_A, total);
    fake_now_ms += RECEIPTS_WALK_MS;
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, ORG_A) == total);
    broker_close(&b);
}

/* The kept entries come from one bounded pool: a recipient that finds it spent keeps
 * none and is walked from the store, and what a walk counted goes back to the pool for the
 * next (each recipient's rows are deleted where the test says its entries were kept). */
static void test_receipts_kept_pool_bounded_and_reused(void **state)
{
    const char *dir = *state;
    enum { N = 40 }; /* two of the pool's chunks of 32 */
    const char *const org[] = {ORG_A, "community:r-01", "community:r-02"};
    uint64_t seqs[N];
    struct broker *b = broker_open_bare(dir);
    fake_now_ms = 1000000;
    receipts_limit_kept(b, 64);
    for (size_t i = 0; i < N; i++)
        seqs[i] = i + 1;
    append_committed(b, org[0], ORG_B, seqs, N); /* kept: the pool's two chunks */
    delete_inbox_rows(b, org[0], 1, N);
    append_committed(b, org[1], ORG_B, seqs, N); /* the pool is spent: not kept */
    receipts_confirmed(b, org[0], N);
    receipts_confirmed(b, org[1], N);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, org[0]) == N);
    assert_true(receipt_of(b, ORG_B, org[1]) == N);
    append_committed(b, org[2], ORG_B, seqs, N); /* the chunks are back: kept */
    delete_inbox_rows(b, org[2], 1, N);
    receipts_confirmed(b, org[2], N);
    receipts_tick(b);
    assert_true(receipt_of(b, ORG_B, org[2]) == N);
    broker_close(&b);
}

int main(void)
{
    assert_rc(keys_crypto_init(), DS_OK);
    const struct CMUnitTest tests[] = {
        tu_test_tmpdir(test_inbox_head_written_once_per_txn),
        tu_test_tmpdir(test_inbox_abort_moves_no_head),
        tu_test_tmpdir(test_inbox_btxn_moves_heads_only_after_its_commit),
        tu_test_tmpdir(test_inbox_entries_are_references),
        tu_test_tmpdir(test_inbox_scrub_strips_erased_letters),
        tu_test_tmpdir(test_inbox_street_events_read_once),
        tu_test_tmpdir(test_inbox_behind_reads_in_chunks),
        tu_test_tmpdir(test_inbox_behind_frame_budget),
        tu_test_tmpdir(test_inbox_entry_hlc_both_kinds),
        tu_test_tmpdir(test_receipts_follow_the_cursor),
        tu_test_tmpdir(test_receipts_saved_per_interval),
        tu_test_tmpdir(test_receipts_one_tick_walks_each_recipient_alone),
        tu_test_tmpdir(test_receipts_of_many_recipients),
        tu_test_tmpdir(test_receipts_counted_from_the_commit),
        tu_test_tmpdir(test_receipts_walk_the_store_then_memory),
        tu_test_tmpdir(test_receipts_past_the_kept_bound_read_back),
        tu_test_tmpdir(test_receipts_kept_pool_bounded_and_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
