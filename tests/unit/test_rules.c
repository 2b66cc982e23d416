/* Unit tests of rules: for each event type, the one side that may author it, member
 * presence, and the body checks. Every case builds and opens a real signed event, so the
 * rules see exactly what a receiver sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fields.h"
#include "rules.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define UNIT "unit:tax-bureau"
#define COMMUNITY "community:hy-03"
#define STREET "street:huayuan"

static struct keys k;

/* rules_check of an event with the given envelope and body. */
static int check(const char *origin, const char *member, uint32_t type,
                 const ProtobufCMessage *body)
{
    struct tu_event e;
    tu_event_make(&e, &k, origin, 1, 1000, member, type, body);
    int rc = rules_check(&e.ev);
    tu_event_free(&e);
    return rc;
}

static Dualsync__Introduction good_intro(void)
{
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)COMMUNITY;
    b.name = (char *)"\xe5\xbc\xa0\xe4\xb8\x89";
    b.report_days = 30;
    b.date = (char *)"2026-11-28";
    return b;
}

static Dualsync__Feedback good_feedback(void)
{
    Dualsync__Feedback b = DUALSYNC__FEEDBACK__INIT;
    b.year = 2026;
    b.rating = DUALSYNC__RATING__RATING_GOOD;
    b.text = (char *)"\xe7\xa7\xaf\xe6\x9e\x81"; /* 积极 */
    return b;
}

static Dualsync__HandlingResult good_handling(void)
{
    Dualsync__HandlingResult b = DUALSYNC__HANDLING_RESULT__INIT;
    b.feedback_origin = (char *)COMMUNITY;
    b.feedback_seq = 3;
    b.action = DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM;
    b.text = (char *)"summary";
    return b;
}

static void test_rules_table(void **state)
{
    static const struct {
        uint32_t type;
        const char *name;
        enum org_kind author;
        bool member;
    } want[] = {
        {DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, "directory-entry", ORG_STREET, false},
        {DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, "introduction", ORG_UNIT, true},
        {DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, "report-in", ORG_COMMUNITY, true},
        {DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, "registration-card", ORG_COMMUNITY, true},
        {DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK, "feedback", ORG_COMMUNITY, true},
        {DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT, "handling-result", ORG_UNIT, true},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct rule *r = rules_find(want[i].type);
        assert_non_null(r);
        assert_int_equal(r->type, want[i].type);
        assert_string_equal(r->name, want[i].name);
        assert_string_equal(rules_type_name(want[i].type), want[i].name);
        assert_int_equal(r->author, want[i].author);
        assert_int_equal(r->scope == SCOPE_MEMBER, want[i].member);
    }
    assert_null(rules_find(0));
    assert_null(rules_find(999));
    assert_string_equal(rules_type_name(999), "unknown");
}

/* Every kind has a Chinese name with no Latin letter in it, and so does every field of
 * every kind's body: the Chinese half of a refusal names them (issue 14: "every Chinese
 * message wholly Chinese"). */
static bool no_latin(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            return false;
    return true;
}

static void test_rules_chinese_names(void **state)
{
    (void)state;
    int kinds = 0, missing = 0;
    for (uint32_t type = 1; type < 256; type++) {
        const struct rule *r = rules_find(type);
        if (!r)
            continue;
        kinds++;
        const char *zh = rules_type_name_zh(type);
        if (!no_latin(zh) || strcmp(zh, "未知类型") == 0)
            fail_msg("type %s has no Chinese name (%s)", r->name, zh);
        for (unsigned f = 0; r->body && f < r->body->n_fields; f++) {
            const char *label = fields_label_zh(r->body->fields[f].name);
            if (!no_latin(label)) {
                print_message("field %s of %s has no Chinese label\n", label, r->name);
                missing++;
            }
        }
    }
    assert_int_equal(missing, 0);
    assert_true(kinds >= 31);
    assert_string_equal(rules_type_name_zh(999), "未知类型");
}

static void test_rules_directory_entry_side(void **state)
{
    Dualsync__DirectoryEntry b = DUALSYNC__DIRECTORY_ENTRY__INIT;
    (void)state;
    b.org = (char *)COMMUNITY;
    b.kind = DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY;
    b.name = (char *)"\xe8\x8a\xb1\xe5\x9b\xad\xe7\xa4\xbe\xe5\x8c\xba"; /* 花园社区 */
    b.curve_key.data = k.curve_pk;
    b.curve_key.len = KEYS_PUB_LEN;
    b.sign_key.data = k.sign_pk;
    b.sign_key.len = KEYS_PUB_LEN;
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY;
    assert_rc(check(STREET, NULL, t, &b.base), DS_OK);
    assert_rc(check(UNIT, NULL, t, &b.base), DS_ESIDE);
    assert_rc(check(COMMUNITY, NULL, t, &b.base), DS_ESIDE);
    /* Org-level: a member is not allowed. */
    assert_rc(check(STREET, "M1", t, &b.base), DS_EINVAL);
    /* Kind must match the id; keys must be 32 bytes. */
    b.kind = DUALSYNC__ORG_KIND__ORG_KIND_UNIT;
    assert_rc(check(STREET, NULL, t, &b.base), DS_EINVAL);
    b.kind = DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY;
    b.sign_key.len = KEYS_PUB_LEN - 1;
    assert_rc(check(STREET, NULL, t, &b.base), DS_EINVAL);
}

static void test_rules_introduction_side(void **state)
{
    Dualsync__Introduction b = good_intro();
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION;
    (void)state;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_OK);
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_ESIDE);
    assert_rc(check(STREET, "M1", t, &b.base), DS_ESIDE);
}

static void test_rules_report_in_side(void **state)
{
    Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN;
    (void)state;
    b.date = (char *)"2026-12-01";
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    assert_rc(check(UNIT, "M1", t, &b.base), DS_ESIDE);
    assert_rc(check(STREET, "M1", t, &b.base), DS_ESIDE);
}

static void test_rules_registration_card_side(void **state)
{
    Dualsync__RegistrationCard b = DUALSYNC__REGISTRATION_CARD__INIT;
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD;
    (void)state;
    b.occupation = (char *)"\xe6\x95\x99\xe5\xb8\x88"; /* 教师 */
    b.willingness = (char *)"volunteer";
    b.rest_time = (char *)"weekends";
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    assert_rc(check(UNIT, "M1", t, &b.base), DS_ESIDE);
}

static void test_rules_feedback_side(void **state)
{
    Dualsync__Feedback b = good_feedback();
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK;
    (void)state;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    assert_rc(check(UNIT, "M1", t, &b.base), DS_ESIDE);
    assert_rc(check(STREET, "M1", t, &b.base), DS_ESIDE);
}

static void test_rules_handling_result_side(void **state)
{
    Dualsync__HandlingResult b = good_handling();
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT;
    (void)state;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_OK);
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_ESIDE);
}

static void test_rules_member_required(void **state)
{
    Dualsync__Introduction intro = good_intro();
    Dualsync__Feedback fb = good_feedback();
    Dualsync__HandlingResult hr = good_handling();
    Dualsync__ReportIn ri = DUALSYNC__REPORT_IN__INIT;
    (void)state;
    ri.date = (char *)"2026-12-01";
    assert_rc(check(UNIT, NULL, DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, &intro.base), DS_EINVAL);
    assert_rc(check(COMMUNITY, NULL, DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, &ri.base), DS_EINVAL);
    assert_rc(check(COMMUNITY, NULL, DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK, &fb.base), DS_EINVAL);
    assert_rc(check(UNIT, NULL, DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT, &hr.base), DS_EINVAL);
}

/* A name with a NUL inside ("张三\0X" on the wire) would reach every screen as 张三 while the
 * signature covers the rest: refused, naming the field. */
static void test_rules_string_with_nul(void **state)
{
    const struct rule *r = rules_find(DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION);
    Dualsync__Introduction b = good_intro();
    char why[FIELDS_WHY_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    (void)state;
    b.name = (char *)"\xe5\xbc\xa0\xe4\xb8\x89X";
    wire_pack(&b.base, &buf, &len);
    assert_true(rules_body_valid(r, buf, len, why));
    uint8_t *x = memchr(buf, 'X', len);
    assert_non_null(x);
    *x = 0;
    assert_false(rules_body_valid(r, buf, len, why));
    assert_non_null(strstr(why, "name holds a NUL"));
    assert_non_null(strstr(why, "姓名或名称含有空字符"));
    free(buf);
}

static void test_rules_introduction_bad_bodies(void **state)
{
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION;
    Dualsync__Introduction b;
    (void)state;

    b = good_intro();
    b.report_days = 0;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.report_days = 366;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.report_days = 365;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_OK);
    b.report_days = 1;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_OK);

    b = good_intro();
    b.date = (char *)"2026-02-30";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.date = (char *)"";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);

    b = good_intro();
    b.community = (char *)"unit:other"; /* the residence must be a community */
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.community = (char *)"";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);

    b = good_intro();
    b.name = (char *)"";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.name = (char *)"bad\x01name";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);

    /* A body that does not decode at all. */
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    struct tu_event e;
    memset(&e, 0, sizeof(e));
    wire_event_build(&k, UNIT, 1, 1000, "M1", t, garbage, sizeof(garbage), &e.raw, &e.len);
    assert_rc(wire_event_open(e.raw, e.len, false, &e.ev), DS_OK);
    assert_rc(rules_check(&e.ev), DS_EINVAL);
    tu_event_free(&e);
}

static void test_rules_report_in_bad_date(void **state)
{
    static const char *const bad[] = {"2026-13-01", "2023-02-29", "", "2026-1-01", "yesterday"};
    Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b.date = (char *)bad[i];
        assert_rc(check(COMMUNITY, "M1", DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, &b.base),
                  DS_EINVAL);
    }
}

static void test_rules_registration_card_bad_bodies(void **state)
{
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD;
    Dualsync__RegistrationCard b = DUALSYNC__REGISTRATION_CARD__INIT;
    char long_field[RULES_CARD_FIELD_MAX + 2];
    (void)state;
    /* All fields empty: nothing to register. */
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    /* One field is enough. */
    b.rest_time = (char *)"evenings";
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    /* Field length limit, in bytes. */
    memset(long_field, 'x', RULES_CARD_FIELD_MAX);
    long_field[RULES_CARD_FIELD_MAX] = '\0';
    b.occupation = long_field;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    long_field[RULES_CARD_FIELD_MAX] = 'x';
    long_field[RULES_CARD_FIELD_MAX + 1] = '\0';
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    b.occupation = (char *)"tab\tok";
    b.willingness = (char *)"bell\x07";
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
}

static void test_rules_feedback_bad_bodies(void **state)
{
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK;
    Dualsync__Feedback b;
    (void)state;

    b = good_feedback();
    b.rating = DUALSYNC__RATING__RATING_UNSPECIFIED;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    b.rating = (Dualsync__Rating)5;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    b.rating = DUALSYNC__RATING__RATING_EXCELLENT;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);
    b.rating = DUALSYNC__RATING__RATING_POOR;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK);

    b = good_feedback();
    b.year = 1900;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    b.year = 0;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
    b.year = 10000;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);

    b = good_feedback();
    b.text = (char *)"";
    b.non_participation = true;
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_OK); /* text is optional */
    b.text = (char *)"\xed\xa0\x80";                      /* surrogate: not UTF-8 */
    assert_rc(check(COMMUNITY, "M1", t, &b.base), DS_EINVAL);
}

static void test_rules_handling_result_bad_bodies(void **state)
{
    const uint32_t t = DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT;
    Dualsync__HandlingResult b;
    (void)state;

    b = good_handling();
    b.feedback_origin = (char *)UNIT; /* feedback only comes from a community */
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.feedback_origin = (char *)STREET;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.feedback_origin = (char *)"";
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);

    b = good_handling();
    b.feedback_seq = 0;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);

    b = good_handling();
    b.action = DUALSYNC__HANDLING_ACTION__HANDLING_ACTION_UNSPECIFIED;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.action = (Dualsync__HandlingAction)4;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_EINVAL);
    b.action = DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION;
    assert_rc(check(UNIT, "M1", t, &b.base), DS_OK);
}

static void test_rules_unknown_type_ok(void **state)
{
    static const uint8_t opaque[] = {0xff, 0x00, 0x13};
    struct tu_event e;
    (void)state;
    /* Unknown types pass with no side or member check: any origin, member or not. */
    assert_rc(check(UNIT, "M1", 999, NULL), DS_OK);
    assert_rc(check(COMMUNITY, NULL, 999, NULL), DS_OK);
    assert_rc(check(STREET, "M1", 999, NULL), DS_OK);
    assert_rc(check(UNIT, "M1", 0, NULL), DS_OK);
    memset(&e, 0, sizeof(e));
    wire_event_build(&k, UNIT, 1, 1000, "M1", 999, opaque, sizeof(opaque), &e.raw, &e.len);
    assert_rc(wire_event_open(e.raw, e.len, false, &e.ev), DS_OK);
    assert_rc(rules_check(&e.ev), DS_OK);
    tu_event_free(&e);
}

static int setup_keys(void **state)
{
    (void)state;
    if (keys_crypto_init() != DS_OK)
        return -1;
    keys_generate(&k);
    return 0;
}

/* An addressed org-level letter: rules_check with `to`. */
static int check_to(const char *origin, const char *member, uint32_t type,
                    const ProtobufCMessage *body, char *const *to, size_t n_to)
{
    struct tu_event e;
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(&e, 0, sizeof(e));
    wire_pack(body, &buf, &len);
    wire_event_build_to(&k, origin, 1, 1000, member, type, buf, len, to, n_to, &e.raw, &e.len);
    free(buf);
    assert_int_equal(wire_event_open(e.raw, e.len, false, &e.ev), DS_OK);
    int rc = rules_check(&e.ev);
    tu_event_free(&e);
    return rc;
}

/* Every known type refuses the sides that may not write it: two of the three, or only the
 * street for a correction or withdrawal (either side of a registration writes those). */
static void test_rules_every_type_has_one_side(void **state)
{
    static const char *const sides[] = {UNIT, COMMUNITY, STREET};
    static const enum org_kind kinds[] = {ORG_UNIT, ORG_COMMUNITY, ORG_STREET};
    Dualsync__UnitVisit empty = DUALSYNC__UNIT_VISIT__INIT;
    size_t known = 0;
    (void)state;
    for (uint32_t type = 1; type < 64; type++) {
        const struct rule *r = rules_find(type);
        if (!r)
            continue;
        known++;
        assert_non_null(r->body);
        for (size_t s = 0; s < 3; s++)
            if (!rules_side_may_author(r, kinds[s]))
                assert_int_equal(
                    check(sides[s], r->scope == SCOPE_ORG ? "" : "M1", type, &empty.base),
                    DS_ESIDE);
    }
    assert_int_equal(known, 32);
    const struct rule *c = rules_find(DUALSYNC__EVENT_TYPE__EVENT_CORRECTION);
    assert_true(rules_side_may_author(c, ORG_UNIT) && rules_side_may_author(c, ORG_COMMUNITY));
    assert_false(rules_side_may_author(c, ORG_STREET));
}

static void test_rules_addressees(void **state)
{
    Dualsync__ResourceOffer offer = DUALSYNC__RESOURCE_OFFER__INIT;
    Dualsync__UnitVisit visit = DUALSYNC__UNIT_VISIT__INIT;
    char *community[] = {(char *)COMMUNITY}, *unit[] = {(char *)UNIT};
    char *street[] = {(char *)STREET}, *bad[] = {(char *)"community:"};
    const uint32_t offer_t = DUALSYNC__EVENT_TYPE__EVENT_RESOURCE_OFFER;
    (void)state;
    offer.title = (char *)"meeting room";
    offer.date = (char *)"2026-05-01";
    assert_int_equal(check_to(UNIT, "", offer_t, &offer.base, community, 1), DS_OK);
    assert_int_equal(check_to(UNIT, "", offer_t, &offer.base, NULL, 0), DS_EINVAL);
    assert_int_equal(check_to(UNIT, "", offer_t, &offer.base, unit, 1), DS_EINVAL);
    assert_int_equal(check_to(UNIT, "", offer_t, &offer.base, street, 1), DS_EINVAL);
    assert_int_equal(check_to(UNIT, "", offer_t, &offer.base, bad, 1), DS_EINVAL);
    /* A member letter is routed by the broker alone: it names no addressee. */
    visit.date = (char *)"2026-05-01";
    visit.text = (char *)"visit";
    assert_int_equal(
        check_to(UNIT, "M1", DUALSYNC__EVENT_TYPE__EVENT_UNIT_VISIT, &visit.base, NULL, 0), DS_OK);
    assert_int_equal(
        check_to(UNIT, "M1", DUALSYNC__EVENT_TYPE__EVENT_UNIT_VISIT, &visit.base, community, 1),
        DS_EINVAL);
    /* Org-level letters have no member, member letters must have one. */
    assert_int_equal(check_to(UNIT, "M1", offer_t, &offer.base, community, 1), DS_EINVAL);
    assert_int_equal(check(UNIT, "", DUALSYNC__EVENT_TYPE__EVENT_UNIT_VISIT, &visit.base),
                     DS_EINVAL);
}

static void test_rules_close_and_notice_bodies(void **state)
{
    Dualsync__RegistrationClose c = DUALSYNC__REGISTRATION_CLOSE__INIT;
    Dualsync__PublicNotice n = DUALSYNC__PUBLIC_NOTICE__INIT;
    const uint32_t close_t = DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CLOSE;
    const uint32_t notice_t = DUALSYNC__EVENT_TYPE__EVENT_PUBLIC_NOTICE;
    (void)state;
    c.date = (char *)"2026-03-01";
    c.reason = DUALSYNC__CLOSE_REASON__CLOSE_RETURNED;
    assert_int_equal(check(COMMUNITY, "M1", close_t, &c.base), DS_OK);
    c.reason = DUALSYNC__CLOSE_REASON__CLOSE_MOVED; /* the unit's move-out says that */
    assert_int_equal(check(COMMUNITY, "M1", close_t, &c.base), DS_EINVAL);
    n.title = (char *)"t";
    n.matter = (char *)"m";
    n.start = (char *)"2026-06-22";
    n.end = (char *)"2026-06-26";
    n.working_days = 5;
    assert_int_equal(check(UNIT, "M1", notice_t, &n.base), DS_OK);
    n.end = (char *)"2026-06-21";
    assert_int_equal(check(UNIT, "M1", notice_t, &n.base), DS_EINVAL);
    n.end = (char *)"2026-06-26";
    n.working_days = 0;
    assert_int_equal(check(UNIT, "M1", notice_t, &n.base), DS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_table),
        cmocka_unit_test(test_rules_chinese_names),
        cmocka_unit_test(test_rules_directory_entry_side),
        cmocka_unit_test(test_rules_introduction_side),
        cmocka_unit_test(test_rules_report_in_side),
        cmocka_unit_test(test_rules_registration_card_side),
        cmocka_unit_test(test_rules_feedback_side),
        cmocka_unit_test(test_rules_handling_result_side),
        cmocka_unit_test(test_rules_member_required),
        cmocka_unit_test(test_rules_introduction_bad_bodies),
        cmocka_unit_test(test_rules_string_with_nul),
        cmocka_unit_test(test_rules_report_in_bad_date),
        cmocka_unit_test(test_rules_registration_card_bad_bodies),
        cmocka_unit_test(test_rules_feedback_bad_bodies),
        cmocka_unit_test(test_rules_handling_result_bad_bodies),
        cmocka_unit_test(test_rules_unknown_type_ok),
        cmocka_unit_test(test_rules_every_type_has_one_side),
        cmocka_unit_test(test_rules_addressees),
        cmocka_unit_test(test_rules_close_and_notice_bodies),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
