/* Unit tests of the peer links between street brokers (broker/links.c), on a bare broker
 * (bf_open) with a real RocksDB and no transport: the test is the other street's broker,
 * handing links_on_frame the frames it would send (a WELCOME, then Directory frames of
 * entries it signs, then DELIVER frames of its orgs' letters). What the link takes becomes
 * this street's announcement of another street's org (directory_import), or a letter stored
 * and routed here; what a hostile or broken street sends is refused and counted, and the
 * stream's cursor still moves past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_fixture.h"
#include "btxn.h"
#include "directory.h"
#include "inbox.h"
#include "links.h"
#include "report.h"
#include "routing.h"
#include "testutil.h"

#include "ctl.h"
#include "err.h"
#include "store.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET "street:jinyu"
#define OTHER "street:xinhua"

int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len);
int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len)
{
    (void)t;
    (void)data;
    (void)len;
    fail_msg("no peer is connected, yet the broker sent to %s", peer->org);
    return DS_EIO;
}

struct fixture {
    char dir[TU_PATH_MAX];
    struct broker *b;
    struct keys other; /* the other street's keys */
    uint64_t seq;      /* its last street seq */
    const char *from;  /* the linked broker the frames come from (OTHER unless a test says) */
};

/* Runs one control command of (key, value) pairs; the reply, decoded (caller frees). */
static Dualsync__CtlReply *ctl(struct broker *b, const char *name, const char *const *kv, size_t n)
{
    Dualsync__CtlArg args[8], *ptrs[8];
    Dualsync__CtlCommand cmd = DUALSYNC__CTL_COMMAND__INIT;
    for (size_t i = 0; i < n; i++) {
        dualsync__ctl_arg__init(&args[i]);
        args[i].key = (char *)kv[2 * i];
        args[i].value = (char *)kv[2 * i + 1];
        ptrs[i] = &args[i];
    }
    cmd.cmd = (char *)name;
    cmd.args = ptrs;
    cmd.n_args = n;
    uint8_t *out = NULL;
    size_t len = 0;
    links_ctl(b, &cmd, &out, &len);
    Dualsync__CtlReply *r = wire_unpack_ctl_reply(out, len);
    free(out);
    assert_non_null(r);
    return r;
}

/* peer add of a card (a hub's when hub); the reply's code. */
static int peer_add_as(struct fixture *f, const char *street, const struct keys *k, bool hub)
{
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN];
    keys_hex(k->curve_pk, KEYS_PUB_LEN, ck);
    keys_hex(k->sign_pk, KEYS_PUB_LEN, sk);
    const char *kv[] = {"org",      street, "name",     "新华街道",          "curve-key", ck,
                        "sign-key", sk,     "endpoint", "tcp://127.0.0.1:1", "hub",       "yes"};
    Dualsync__CtlReply *r = ctl(f->b, "peer add", kv, hub ? 6 : 5);
    int code = r->code;
    wire_msg_free(r);
    return code;
}

static int peer_add(struct fixture *f, const char *street, const struct keys *k)
{
    return peer_add_as(f, street, k, false);
}

/* The row of `peer list` of the link frames come from (caller decrefs). */
static json_t *link_row(struct fixture *f)
{
    Dualsync__CtlReply *r = ctl(f->b, "peer list", NULL, 0);
    json_t *arr = json_loads(r->json, 0, NULL), *row = NULL, *l;
    size_t i;
    wire_msg_free(r);
    json_array_foreach(arr, i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "street")), f->from) == 0)
            row = json_incref(l);
    }
    json_decref(arr);
    assert_non_null(row);
    return row;
}

static int64_t link_int(struct fixture *f, const char *field)
{
    json_t *row = link_row(f);
    int64_t v = json_integer_value(json_object_get(row, field));
    json_decref(row);
    return v;
}

static void send_frame(struct fixture *f, Dualsync__Frame *frame)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&frame->base, &buf, &len);
    links_on_frame(f->b, f->from, buf, len);
    free(buf);
}

static void welcome(struct fixture *f, uint64_t head)
{
    static const uint8_t store[BROKER_STORE_ID_LEN] = {1, 2, 3};
    Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
    Dualsync__Welcome w = DUALSYNC__WELCOME__INIT;
    w.street = (char *)f->from;
    w.store_id.data = (uint8_t *)store;
    w.store_id.len = sizeof(store);
    w.directory_head = head;
    fr.kind_case = DUALSYNC__FRAME__KIND_WELCOME;
    fr.welcome = &w;
    send_frame(f, &fr);
}

/* A directory entry of org with keys k (NULL: a fresh pair), by origin with signer's key at
 * seq. */
static void entry_with(const struct keys *signer, const char *origin, uint64_t seq, const char *org,
                       Dualsync__OrgKind kind, const char *street, const struct keys *keys,
                       uint8_t **raw, size_t *len)
{
    struct keys k;
    if (keys)
        k = *keys;
    else
        keys_generate(&k);
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    d.org = (char *)org;
    d.kind = kind;
    d.name = (char *)"某组织";
    d.curve_key.data = k.curve_pk;
    d.curve_key.len = KEYS_PUB_LEN;
    d.sign_key.data = k.sign_pk;
    d.sign_key.len = KEYS_PUB_LEN;
    d.street = (char *)street;
    uint8_t *body = NULL;
    size_t body_len = 0;
    wire_pack(&d.base, &body, &body_len);
    wire_event_build(signer, origin, seq, (uint64_t)1 << 40, "",
                     DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, body, body_len, raw, len);
    free(body);
}

static void entry(const struct keys *signer, const char *origin, uint64_t seq, const char *org,
                  Dualsync__OrgKind kind, const char *street, uint8_t **raw, size_t *len)
{
    entry_with(signer, origin, seq, org, kind, street, NULL, raw, len);
}

/* A Directory frame after the cursor `after` with n entries (raw), up to upto. */
static void directory(struct fixture *f, uint64_t after, uint8_t **raw, size_t *lens, size_t n,
                      uint64_t upto)
{
    Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
    Dualsync__Directory d = DUALSYNC__DIRECTORY__INIT;
    ProtobufCBinaryData ev[8];
    for (size_t i = 0; i < n; i++)
        ev[i] = (ProtobufCBinaryData){lens[i], raw[i]};
    d.after = after;
    d.events = ev;
    d.n_events = n;
    d.upto = upto;
    d.head = upto;
    fr.kind_case = DUALSYNC__FRAME__KIND_DIRECTORY;
    fr.directory = &d;
    send_frame(f, &fr);
}

/* One entry of the other street's own stream, signed by it, at its next seq. */
static void one_entry(struct fixture *f, const char *org, Dualsync__OrgKind kind)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    uint64_t after = f->seq++;
    entry(&f->other, OTHER, f->seq, org, kind, "", &raw, &len);
    directory(f, after, &raw, &len, 1, f->seq);
    free(raw);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    tu_tmpdir(f->dir);
    f->b = bf_open(f->dir, STREET, NULL);
    keys_generate(&f->other);
    f->from = OTHER;
    assert_int_equal(peer_add(f, OTHER, &f->other), 0);
    welcome(f, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bf_close(&f->b);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* The other street's community becomes this directory's entry of that street's org; the
 * cursor moves and the same entry again (a resend after a reset) announces nothing. */
static void test_takes_other_streets_org(void **state)
{
    struct fixture *f = *state;
    uint64_t version = directory_head(f->b);
    one_entry(f, "community:hexie", DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY);
    const struct org_entry *e = directory_find(f->b, "community:hexie");
    assert_non_null(e);
    assert_string_equal(e->street, OTHER);
    assert_string_equal(directory_holder(f->b, "community:hexie"), OTHER);
    assert_true(directory_head(f->b) > version);
    assert_int_equal(link_int(f, "directory_cursor"), 1);
    assert_int_equal(link_int(f, "entries_taken"), 1);
    assert_int_equal(link_int(f, "entries_refused"), 0);
    /* another street's org may not open a session here */
    char org[IDS_ORG_MAX];
    struct keys k;
    keys_generate(&k);
    assert_false(links_authorize(f->b, k.curve_pk, org));
    assert_true(links_authorize(f->b, f->other.curve_pk, org));
    assert_string_equal(org, OTHER);
}

static void test_resend_is_not_announced_again(void **state)
{
    struct fixture *f = *state;
    uint8_t *raw = NULL;
    size_t len = 0;
    entry(&f->other, OTHER, 1, "unit:school", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", &raw, &len);
    directory(f, 0, &raw, &len, 1, 1);
    uint64_t head = directory_head(f->b);
    directory(f, 0, &raw, &len, 1, 1); /* the same frame again */
    assert_int_equal(directory_head(f->b), head);
    assert_int_equal(link_int(f, "entries_taken"), 1);
    free(raw);
}

static void expect_refused(struct fixture *f, const char *org, const char *why)
{
    assert_null(directory_find(f->b, org));
    json_t *row = link_row(f);
    assert_int_equal(json_integer_value(json_object_get(row, "entries_refused")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "entries_taken")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(row, "last_refusal")), why));
    /* the stream goes on past it */
    assert_int_equal(json_integer_value(json_object_get(row, "directory_cursor")), 1);
    json_decref(row);
}

static void test_bad_signature_refused(void **state)
{
    struct fixture *f = *state;
    struct keys forger;
    keys_generate(&forger);
    uint8_t *raw = NULL;
    size_t len = 0;
    entry(&forger, OTHER, 1, "unit:fake", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", &raw, &len);
    directory(f, 0, &raw, &len, 1, 1);
    free(raw);
    expect_refused(f, "unit:fake", "bad signature");
}

static void test_other_origin_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t *raw = NULL;
    size_t len = 0;
    /* an entry of a third street, relayed: a link carries only its street's own */
    entry(&f->other, "street:third", 1, "unit:relayed", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", &raw,
          &len);
    directory(f, 0, &raw, &len, 1, 1);
    free(raw);
    expect_refused(f, "unit:relayed", "not a directory entry of that street");
}

static void test_relayed_entry_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t *raw = NULL;
    size_t len = 0;
    /* signed by the linked street, but naming a third street as the holder */
    entry(&f->other, OTHER, 1, "unit:elsewhere", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "street:third",
          &raw, &len);
    directory(f, 0, &raw, &len, 1, 1);
    free(raw);
    expect_refused(f, "unit:elsewhere", "not a valid unit or community");
}

static void test_street_kind_refused(void **state)
{
    struct fixture *f = *state;
    one_entry(f, "street:third", DUALSYNC__ORG_KIND__ORG_KIND_STREET);
    expect_refused(f, "street:third", "not a valid unit or community");
}

/* An id is one org in the city: the linked street may not announce this street's org. */
static void test_own_org_id_refused(void **state)
{
    struct fixture *f = *state;
    struct keys k;
    keys_generate(&k);
    bf_add_org(f->b, "unit:tax", ORG_UNIT, &k);
    const struct org_entry *mine = directory_find(f->b, "unit:tax");
    uint8_t curve[KEYS_PUB_LEN];
    memcpy(curve, mine->curve_key, KEYS_PUB_LEN);
    one_entry(f, "unit:tax", DUALSYNC__ORG_KIND__ORG_KIND_UNIT);
    mine = directory_find(f->b, "unit:tax");
    assert_string_equal(mine->street, "");
    assert_memory_equal(mine->curve_key, curve, KEYS_PUB_LEN);
    json_t *row = link_row(f);
    assert_int_equal(json_integer_value(json_object_get(row, "entries_refused")), 1);
    assert_non_null(
        strstr(json_string_value(json_object_get(row, "last_refusal")), "held by " STREET));
    json_decref(row);
}

/* A frame after a gap (one was lost) takes nothing: the link asks from its cursor again. */
static void test_gap_takes_nothing(void **state)
{
    struct fixture *f = *state;
    uint8_t *raw = NULL;
    size_t len = 0;
    entry(&f->other, OTHER, 5, "unit:later", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", &raw, &len);
    directory(f, 4, &raw, &len, 1, 5);
    free(raw);
    assert_null(directory_find(f->b, "unit:later"));
    assert_int_equal(link_int(f, "directory_cursor"), 0);
}

/* A WELCOME from another street than the card's: nothing is taken on that link. */
static void test_wrong_street_closed(void **state)
{
    struct fixture *f = *state;
    static const uint8_t store[BROKER_STORE_ID_LEN] = {9};
    Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
    Dualsync__Welcome w = DUALSYNC__WELCOME__INIT;
    /* a fresh link that has not been welcomed yet: remove and add again */
    const char *kv[] = {"org", OTHER};
    wire_msg_free(ctl(f->b, "peer remove", kv, 1));
    assert_int_equal(peer_add(f, OTHER, &f->other), 0);
    w.street = (char *)"street:impostor";
    w.store_id.data = (uint8_t *)store;
    w.store_id.len = sizeof(store);
    fr.kind_case = DUALSYNC__FRAME__KIND_WELCOME;
    fr.welcome = &w;
    send_frame(f, &fr);
    one_entry(f, "unit:school", DUALSYNC__ORG_KIND__ORG_KIND_UNIT);
    assert_null(directory_find(f->b, "unit:school"));
    json_t *row = link_row(f);
    assert_false(json_is_true(json_object_get(row, "connected")));
    json_decref(row);
}

/* ---------------------------------------------------------------- letters */

/* A DELIVER of this street's inbox at the other broker: letters (raw) from inbox seq first,
 * sent with the other broker's directory sent up to needed. */
static void deliver_needing(struct fixture *f, uint64_t first, uint8_t **raw, size_t *lens,
                            size_t n, uint64_t needed)
{
    Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
    Dualsync__Deliver d = DUALSYNC__DELIVER__INIT;
    ProtobufCBinaryData ev[8];
    for (size_t i = 0; i < n; i++)
        ev[i] = (ProtobufCBinaryData){lens[i], raw[i]};
    d.first = first;
    d.events = ev;
    d.n_events = n;
    d.inbox_head = first + n - 1;
    d.directory_needed = needed;
    fr.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
    fr.deliver = &d;
    send_frame(f, &fr);
}

static void deliver(struct fixture *f, uint64_t first, uint8_t **raw, size_t *lens, size_t n)
{
    deliver_needing(f, first, raw, lens, n, 0);
}

/* The other street holds unit:school (keys u); this street holds community:hexie. */
static void two_sides(struct fixture *f, struct keys *u)
{
    struct keys c;
    keys_generate(u);
    keys_generate(&c);
    bf_add_org(f->b, "community:hexie", ORG_COMMUNITY, &c);
    uint8_t *raw = NULL;
    size_t len = 0;
    entry_with(&f->other, OTHER, ++f->seq, "unit:school", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", u,
               &raw, &len);
    directory(f, f->seq - 1, &raw, &len, 1, f->seq);
    free(raw);
    assert_non_null(directory_find(f->b, "unit:school"));
}

static void intro(const struct keys *k, const char *origin, uint64_t seq, struct tu_event *out)
{
    tu_event_intro(out, k, origin, seq, (uint64_t)1 << 40, "DY-0001", "community:hexie", "张三", 30,
                   "2026-03-01");
}

/* Both sides (two_sides), then the other street's unit's introduction, delivered as inbox
 * entry first. */
static void deliver_intro(struct fixture *f, uint64_t first)
{
    struct keys u;
    two_sides(f, &u);
    struct tu_event e;
    intro(&u, "unit:school", 1, &e);
    deliver(f, first, &e.raw, &e.len, 1);
    if (first == 1)
        deliver(f, 1, &e.raw, &e.len, 1); /* resent: as after a lost CONFIRM */
    tu_event_free(&e);
}

/* The other street's unit introduces a member to this street's community: the letter is
 * stored here, routed to the community's inbox, and the link's inbox cursor moves with it
 * in the same commit; the same DELIVER again stores nothing twice. */
static void test_letter_taken_and_routed(void **state)
{
    struct fixture *f = *state;
    deliver_intro(f, 1);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 1);
    assert_int_equal(inbox_head(f->b, "community:hexie"), 1);
    assert_int_equal(link_int(f, "inbox_cursor"), 1);
    assert_int_equal(link_int(f, "letters_relayed"), 1);
}

/* What a hostile or broken street may send is refused and counted, stored nowhere, and
 * the stream goes on: a letter its key did not sign, and a letter of an org it does not
 * hold (this street's own community, whose letters come from its own node). */
static void test_hostile_letters_refused(void **state)
{
    struct fixture *f = *state;
    struct keys u, forger, c2;
    two_sides(f, &u);
    keys_generate(&forger);
    struct tu_event bad, own;
    intro(&forger, "unit:school", 1, &bad);
    keys_generate(&c2);
    tu_event_report(&own, &c2, "community:hexie", 1, (uint64_t)1 << 40, "DY-0001", "2026-03-02");
    uint8_t *raw[2] = {bad.raw, own.raw};
    size_t lens[2] = {bad.len, own.len};
    deliver(f, 1, raw, lens, 2);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 0);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "community:hexie"), 0);
    assert_int_equal(inbox_head(f->b, "community:hexie"), 0);
    json_t *row = link_row(f);
    assert_int_equal(json_integer_value(json_object_get(row, "letters_refused")), 2);
    assert_int_equal(json_integer_value(json_object_get(row, "inbox_cursor")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(row, "last_refusal")),
                           "not an org reached through that link"));
    json_decref(row);
    tu_event_free(&bad);
    tu_event_free(&own);
}

/* A letter dated more than a day ahead is refused, as a published one would be. */
static void test_letter_from_the_future_refused(void **state)
{
    struct fixture *f = *state;
    struct keys u;
    two_sides(f, &u);
    struct tu_event e;
    uint64_t ahead = hlc_wall_ms() + 48u * 3600u * 1000u;
    tu_event_intro(&e, &u, "unit:school", 1, ahead << 16, "DY-0001", "community:hexie", "张三", 30,
                   "2026-03-01");
    deliver(f, 1, &e.raw, &e.len, 1);
    tu_event_free(&e);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 0);
    assert_int_equal(link_int(f, "letters_refused"), 1);
}

/* A DELIVER sent after Directory frames this street has not taken (lost on the way) takes
 * nothing: its letters may be of an author those frames announce, and refusing them would
 * skip them for good. The chaos run with a hub lost letters this way. */
static void test_letter_ahead_of_directory_waits(void **state)
{
    struct fixture *f = *state;
    struct keys u;
    two_sides(f, &u); /* the directory taken up to f->seq */
    struct tu_event e;
    intro(&u, "unit:school", 1, &e);
    deliver_needing(f, 1, &e.raw, &e.len, 1, f->seq + 3);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 0);
    assert_int_equal(link_int(f, "inbox_cursor"), 0);
    assert_int_equal(link_int(f, "letters_refused"), 0);
    deliver_needing(f, 1, &e.raw, &e.len, 1, f->seq); /* sent again once it has them */
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 1);
    assert_int_equal(link_int(f, "inbox_cursor"), 1);
    tu_event_free(&e);
}

/* A DELIVER after a gap takes nothing (the link asks from its cursor again). */
static void test_letter_gap_takes_nothing(void **state)
{
    struct fixture *f = *state;
    deliver_intro(f, 3);
    assert_int_equal(eventlog_hwm(broker_log(f->b), "unit:school"), 0);
    assert_int_equal(link_int(f, "inbox_cursor"), 0);
}

/* This street's letter to the other street's unit goes into the linked street's inbox. */
static void test_letter_to_other_street_goes_to_its_inbox(void **state)
{
    struct fixture *f = *state;
    deliver_intro(f, 1);
    struct btxn t;
    btxn_begin(f->b, &t);
    btxn_append(&t, "unit:school", "unit:school", 1);
    assert_rc(btxn_commit(&t), DS_OK);
    assert_int_equal(inbox_head(f->b, OTHER), 1);
    assert_int_equal(inbox_head(f->b, "unit:school"), 0);
}

/* ---------------------------------------------------------------- claims across streets */

/* Stores e here as this street's node would have it published, routed (routing.c). */
static void store_routed(struct fixture *f, const struct tu_event *e)
{
    struct event ev;
    struct recipients to;
    const struct event *kept = NULL;
    struct btxn t;
    assert_rc(wire_event_open(e->raw, e->len, true, &ev), DS_OK);
    btxn_begin(f->b, &t);
    assert_rc(routing_recipients(&t, &ev, &to), DS_OK);
    assert_rc(eventlog_txn_adopt(t.log, &ev, 0, &kept), DS_OK);
    for (size_t k = 0; k < to.n; k++)
        btxn_append(&t, to.org[k], kept->origin, kept->seq);
    assert_rc(btxn_commit(&t), DS_OK);
    wire_event_release(&ev);
}

/* This street's unit:own introduces DY-0009 to the other street's community:far (and,
 * with two_sides, the other street's unit:school its DY-0001 to this street's hexie). */
static void claims_both_ways(struct fixture *f, struct keys *own)
{
    struct keys school;
    two_sides(f, &school);
    one_entry(f, "community:far", DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY);
    keys_generate(own);
    bf_add_org(f->b, "unit:own", ORG_UNIT, own);
    struct tu_event e;
    tu_event_intro(&e, own, "unit:own", 1, (uint64_t)1 << 40, "DY-0009", "community:far", "李四",
                   30, "2026-03-01");
    store_routed(f, &e);
    tu_event_free(&e);
    assert_int_equal(inbox_head(f->b, OTHER), 1); /* passed on to the community's street */
    tu_event_intro(&e, &school, "unit:school", 1, (uint64_t)1 << 40, "DY-0001", "community:hexie",
                   "张三", 30, "2026-03-01");
    deliver(f, 1, &e.raw, &e.len, 1);
    tu_event_free(&e);
}

static void notice(struct fixture *f, const char *member, const char *intro, const char *other)
{
    Dualsync__ClaimNotice n = DUALSYNC__CLAIM_NOTICE__INIT;
    n.member = (char *)member;
    n.intro = (char *)intro;
    n.other = (char *)other;
    n.lost = true;
    links_take_notice(f->b, f->from, &n);
}

/* The community's street says this street's unit lost its claim: the loss is stored once
 * (the repeats every 10 s change nothing) and the unit's later letters about the member
 * are refused here, as the community's street would. */
static void test_claim_lost_taken(void **state)
{
    struct fixture *f = *state;
    struct keys own;
    claims_both_ways(f, &own);
    assert_false(routing_lost_known(f->b, "unit:own/1"));
    notice(f, "DY-0009", "unit:own/1", "unit:school");
    assert_true(routing_lost_known(f->b, "unit:own/1"));
    notice(f, "DY-0009", "unit:own/1", "unit:school");
    assert_int_equal(link_int(f, "claim_notices_taken"), 1);
    struct tu_event e;
    struct event ev;
    struct recipients to;
    struct btxn t;
    tu_event_move_out(&e, &own, "unit:own", 2, (uint64_t)2 << 40, "DY-0009", "2026-04-01");
    assert_rc(wire_event_open(e.raw, e.len, true, &ev), DS_OK);
    btxn_begin(f->b, &t);
    assert_rc(routing_recipients(&t, &ev, &to), DS_OK);
    assert_int_equal(to.n, 0);
    assert_non_null(to.refused);
    btxn_abort(&t);
    wire_event_release(&ev);
    tu_event_free(&e);
}

/* A street decides only for the communities reached through it: a notice about this
 * street's community, about the other street's own unit, about a letter that never
 * passed here, or naming no unit, is refused, counted and stores nothing. */
static void test_claim_notice_refused(void **state)
{
    struct fixture *f = *state;
    struct keys own;
    claims_both_ways(f, &own);
    struct tu_event e;
    tu_event_intro(&e, &own, "unit:own", 2, (uint64_t)2 << 40, "DY-0010", "community:hexie", "王五",
                   30, "2026-03-01");
    store_routed(f, &e);
    tu_event_free(&e);
    notice(f, "DY-0010", "unit:own/2", "unit:school"); /* hexie is this street's */
    notice(f, "DY-0001", "unit:school/1", "unit:own"); /* its own unit */
    notice(f, "DY-0009", "unit:own/7", "unit:school"); /* no such letter here */
    notice(f, "DY-0009", "unit:own/1", "community:far");
    notice(f, "DY-0001", "unit:own/1", "unit:school"); /* not that member's letter */
    assert_int_equal(link_int(f, "claim_notices_refused"), 5);
    assert_int_equal(link_int(f, "claim_notices_taken"), 0);
    assert_false(routing_lost_known(f->b, "unit:school/1"));
    assert_false(routing_lost_known(f->b, "unit:own/1"));
    assert_false(routing_lost_known(f->b, "unit:own/2"));
}

/* ---------------------------------------------------------------- a hub */

#define HUB "street:city"

/* The link of a hub (its card says hub = yes), welcomed; frames come from it from now on. */
static void hub_link(struct fixture *f)
{
    keys_generate(&f->other); /* the hub's keys sign what comes from it */
    f->from = HUB;
    f->seq = 0;
    assert_int_equal(peer_add_as(f, HUB, &f->other, true), 0);
    welcome(f, 0);
}

/* From a hub: another street's org, with its holder named, reached through the hub; one
 * naming this street as its holder, or none, refused. */
static void test_hub_entries(void **state)
{
    struct fixture *f = *state;
    hub_link(f);
    uint8_t *raw[3] = {NULL};
    size_t lens[3] = {0};
    entry(&f->other, HUB, 1, "unit:far", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "street:third", &raw[0],
          &lens[0]);
    entry(&f->other, HUB, 2, "unit:mine", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, STREET, &raw[1],
          &lens[1]);
    entry(&f->other, HUB, 3, "unit:nobody", DUALSYNC__ORG_KIND__ORG_KIND_UNIT, "", &raw[2],
          &lens[2]);
    directory(f, 0, raw, lens, 3, 3);
    for (size_t i = 0; i < 3; i++)
        free(raw[i]);
    const struct org_entry *e = directory_find(f->b, "unit:far");
    assert_non_null(e);
    assert_string_equal(e->street, "street:third");
    assert_string_equal(e->via, HUB);
    assert_null(directory_find(f->b, "unit:mine"));
    assert_null(directory_find(f->b, "unit:nobody"));
    assert_int_equal(link_int(f, "entries_refused"), 2);
    /* a letter to it goes into the hub's inbox */
    struct btxn t;
    btxn_begin(f->b, &t);
    btxn_append(&t, "unit:far", "unit:far", 1);
    assert_rc(btxn_commit(&t), DS_OK);
    assert_int_equal(inbox_head(f->b, HUB), 1);
}

/* An org reached directly keeps the direct way when a hub announces it too. */
static void test_direct_way_kept(void **state)
{
    struct fixture *f = *state;
    one_entry(f, "community:hexie", DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY); /* from OTHER */
    const struct org_entry *e = directory_find(f->b, "community:hexie");
    assert_non_null(e);
    uint8_t curve[KEYS_PUB_LEN];
    memcpy(curve, e->curve_key, KEYS_PUB_LEN);
    hub_link(f);
    uint8_t *raw = NULL;
    size_t len = 0;
    uint64_t head = directory_head(f->b);
    entry(&f->other, HUB, 1, "community:hexie", DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY, OTHER, &raw,
          &len);
    directory(f, 0, &raw, &len, 1, 1);
    free(raw);
    e = directory_find(f->b, "community:hexie");
    assert_string_equal(e->via, OTHER);
    assert_memory_equal(e->curve_key, curve, KEYS_PUB_LEN);
    assert_int_equal(directory_head(f->b), head);
}

/* peer add refuses this street's own card, the same street twice and a card without an
 * endpoint; the link and its cursor survive a restart. */
static void test_peer_add_checks_and_restart(void **state)
{
    struct fixture *f = *state;
    struct keys k;
    keys_generate(&k);
    assert_int_equal(peer_add(f, STREET, &k), DS_EINVAL);
    assert_int_equal(peer_add(f, OTHER, &k), DS_EEXIST);
    one_entry(f, "community:hexie", DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY);
    bf_close(&f->b);
    f->b = bf_open(f->dir, STREET, NULL);
    assert_rc(directory_load(f->b), DS_OK); /* what broker_open does */
    assert_rc(links_load(f->b), DS_OK);
    assert_int_equal(link_int(f, "directory_cursor"), 1);
    const struct org_entry *e = directory_find(f->b, "community:hexie");
    assert_non_null(e);
    assert_string_equal(e->street, OTHER);
    char org[IDS_ORG_MAX];
    assert_false(directory_authorize(f->b, e->curve_key, org)); /* it connects to its own */
}

/* A street's report figures (report.h) are taken only as that street's own, and only when
 * their counts add up; nothing else is stored. */
static void test_figures_checked(void **state)
{
    struct fixture *f = *state;
    Dualsync__StreetFigures fig = DUALSYNC__STREET_FIGURES__INIT;
    const char *why = NULL;
    fig.street = (char *)OTHER;
    fig.name = (char *)"新华街道";
    fig.year = 2026;
    fig.as_of = (char *)"2026-12-04";
    fig.registrations = 3;
    fig.reported = 2;
    fig.feedback_members = 2;
    assert_rc(report_figures_take(f->b, "street:third", &fig, &why), DS_EINVAL);
    assert_non_null(strstr(why, "another street"));
    fig.reported = 4; /* more report-ins than registrations */
    assert_rc(report_figures_take(f->b, OTHER, &fig, &why), DS_EINVAL);
    assert_non_null(strstr(why, "do not add up"));
    fig.reported = 2;
    fig.as_of = (char *)"2026-13-01";
    assert_rc(report_figures_take(f->b, OTHER, &fig, &why), DS_EINVAL);
    fig.as_of = (char *)"2026-12-04";
    assert_rc(report_figures_take(f->b, OTHER, &fig, &why), DS_OK);
    void *v = NULL;
    size_t len = 0;
    struct skey k;
    skey_init(&k);
    skey_str(&k, "figures");
    skey_str(&k, OTHER);
    assert_rc(store_get(eventlog_store(broker_log(f->b)), CF_META, &k, &v, &len), DS_OK);
    Dualsync__StreetFigures *back = wire_unpack_street_figures((uint8_t *)v + 8, len - 8);
    assert_non_null(back);
    assert_int_equal(back->registrations, 3);
    wire_msg_free(back);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_takes_other_streets_org, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_is_not_announced_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_origin_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relayed_entry_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_street_kind_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_org_id_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_takes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_street_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_add_checks_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_letter_taken_and_routed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_letters_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_letter_gap_takes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_letter_ahead_of_directory_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_letter_from_the_future_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_letter_to_other_street_goes_to_its_inbox, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hub_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_way_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_lost_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_notice_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
