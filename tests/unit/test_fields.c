/* Unit tests of fields: the generic validator (each naming convention, required fields,
 * enums, ranges, list sizes), operator options into fields, enum short names, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "dualsync.pb-c.h"
#include "err.h"
#include "fields.h"
#include "ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char why[FIELDS_WHY_MAX];

static bool valid(const ProtobufCMessage *m, const char *required)
{
    why[0] = '\0';
    return fields_valid(m, required, why);
}

static void test_fields_conventions_by_name(void **state)
{
    (void)state;
    ProtobufCMessage *m = fields_new(&dualsync__service_claim__descriptor);
    assert_true(valid(m, NULL)); /* everything empty: nothing given, nothing wrong */
    assert_false(valid(m, "need"));
    assert_non_null(strstr(why, "need is required"));
    assert_int_equal(fields_set(m, "need", "community:c1/7", why), DS_OK);
    assert_int_equal(fields_set(m, "claimant", "DY-0001", why), DS_OK);
    assert_int_equal(fields_set(m, "date", "2026-02-28", why), DS_OK);
    assert_true(valid(m, "need,date"));
    /* Each field is judged by its name. */
    fields_set(m, "need", "community:c1", why); /* not an event id */
    assert_false(valid(m, NULL));
    assert_non_null(strstr(why, "need must be an event id"));
    fields_set(m, "need", "community:c1/7", why);
    fields_set(m, "claimant", "DY 0001", why); /* not a member id */
    assert_false(valid(m, NULL));
    fields_set(m, "claimant", "", why);
    fields_set(m, "date", "2026-02-30", why); /* no such day */
    assert_false(valid(m, NULL));
    fields_set(m, "date", "2026-02-28", why);
    fields_set(m, "text", "\xff\xfe", why); /* not UTF-8 */
    assert_false(valid(m, NULL));
    char big[IDS_TEXT_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fields_set(m, "text", big, why); /* one byte too many */
    assert_false(valid(m, NULL));
    big[IDS_TEXT_MAX] = '\0';
    fields_set(m, "text", big, why);
    assert_true(valid(m, NULL));
    fields_free(m);
}

static void test_fields_codes_names_short_text(void **state)
{
    (void)state;
    ProtobufCMessage *m = fields_new(&dualsync__volunteer_team__descriptor);
    fields_set(m, "team", "Patrol", why); /* codes are lower-case */
    assert_false(valid(m, NULL));
    fields_set(m, "team", "patrol-1", why);
    fields_set(m, "kind", "patrol", why);
    char title[IDS_NAME_MAX + 2];
    memset(title, 'x', sizeof(title) - 1);
    title[sizeof(title) - 1] = '\0';
    fields_set(m, "title", title, why);
    assert_false(valid(m, NULL));
    fields_set(m, "title", "夜间巡逻队", why);
    assert_true(valid(m, "team,title,kind"));
    fields_free(m);

    m = fields_new(&dualsync__registration_card__descriptor);
    char card[FIELDS_SHORT_MAX + 2];
    memset(card, 'y', sizeof(card) - 1);
    card[sizeof(card) - 1] = '\0';
    fields_set(m, "occupation", card, why);
    assert_false(valid(m, NULL));
    fields_set(m, "occupation", "教师", why);
    assert_int_equal(fields_set(m, "categories", "治安巡逻,环境卫生", why), DS_OK);
    assert_int_equal(((Dualsync__RegistrationCard *)m)->n_categories, 2);
    assert_true(valid(m, NULL));
    /* As Chinese text writes lists: full-width comma, 、, blanks; empty items skipped */
    assert_int_equal(fields_set(m, "categories", " 治安巡逻，环境卫生、　政策宣讲 ,, ", why),
                     DS_OK);
    Dualsync__RegistrationCard *rc = (Dualsync__RegistrationCard *)m;
    assert_int_equal(rc->n_categories, 3);
    assert_string_equal(rc->categories[0], "治安巡逻");
    assert_string_equal(rc->categories[1], "环境卫生");
    assert_string_equal(rc->categories[2], "政策宣讲");
    char *canon = fields_list_canonical("a ；b、c，, d ");
    assert_string_equal(canon, "a,b,c,d");
    free(canon);
    /* a decoded body (from the network) with an empty item is still invalid */
    free(rc->categories[1]);
    rc->categories[1] = strdup("");
    assert_false(valid(m, NULL));
    fields_free(m);
}

static void test_fields_enums_numbers_flags(void **state)
{
    (void)state;
    ProtobufCMessage *m = fields_new(&dualsync__feedback__descriptor);
    assert_int_equal(fields_set(m, "rating", "poor", why), DS_OK);
    assert_int_equal(((Dualsync__Feedback *)m)->rating, DUALSYNC__RATING__RATING_POOR);
    assert_int_equal(fields_set(m, "rating", "great", why), DS_EINVAL);
    assert_int_equal(fields_set(m, "rating", "unspecified", why), DS_EINVAL); /* 0 is no value */
    assert_int_equal(fields_set(m, "non-participation", "", why), DS_OK);
    assert_true(((Dualsync__Feedback *)m)->non_participation);
    assert_int_equal(fields_set(m, "non-participation", "perhaps", why), DS_EINVAL);
    assert_int_equal(fields_set(m, "year", "20x6", why), DS_EINVAL);
    assert_int_equal(fields_set(m, "year", "1900", why), DS_OK);
    assert_false(valid(m, NULL)); /* out of range */
    fields_set(m, "year", "2026", why);
    fields_set(m, "period", "2026-Q5", why);
    assert_false(valid(m, NULL));
    fields_set(m, "period", "2026-Q4", why);
    assert_true(valid(m, "year,rating"));
    assert_int_equal(fields_set(m, "no-such-field", "1", why), DS_ENOTFOUND);
    /* An enum value the schema does not declare (from a decoder) is refused. */
    ((Dualsync__Feedback *)m)->rating = (Dualsync__Rating)9;
    assert_false(valid(m, NULL));
    fields_free(m);
}

static void test_fields_enum_names(void **state)
{
    char buf[64];
    (void)state;
    assert_string_equal(fields_enum_name(&dualsync__handling_action__descriptor, 3, buf),
                        "no-action");
    assert_string_equal(fields_enum_name(&dualsync__opinion_kind__descriptor, 3, buf),
                        "excellent-member");
    assert_string_equal(fields_enum_name(&dualsync__notice_status__descriptor, 3, buf),
                        "no-objections");
    assert_string_equal(fields_enum_name(&dualsync__rating__descriptor, 0, buf), "");
    assert_string_equal(fields_enum_name(&dualsync__rating__descriptor, 77, buf), "");
}

static void test_fields_json_and_options(void **state)
{
    (void)state;
    ProtobufCMessage *m = fields_new(&dualsync__team_membership__descriptor);
    fields_set(m, "team", "patrol-1", why);
    fields_set(m, "leave", "yes", why);
    json_t *j = fields_json(m);
    assert_string_equal(json_string_value(json_object_get(j, "team")), "patrol-1");
    assert_true(json_is_true(json_object_get(j, "leave")));
    assert_string_equal(json_string_value(json_object_get(j, "date")), "");
    json_decref(j);
    char *opts = fields_options(m->descriptor);
    assert_string_equal(opts, "team:,leave,date:");
    free(opts);
    fields_free(m);
}

static void test_fields_list_limit(void **state)
{
    (void)state;
    ProtobufCMessage *m = fields_new(&dualsync__joint_meeting__descriptor);
    size_t n = FIELDS_LIST_MAX + 1, len = 0;
    char *list = malloc(n * 16);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(list + len, "%sunit:u%zu", i ? "," : "", i);
    fields_set(m, "attendees", list, why);
    assert_false(valid(m, NULL));
    assert_non_null(strstr(why, "more than"));
    free(list);
    fields_free(m);
}

/* The raw walk for NULs in strings (fields_raw_strings_valid) on bodies protobuf-c may
 * still accept or that are cut short: an empty body given as NULL (a redacted letter can
 * be empty), and a fixed64 or fixed32 field whose bytes end early. fuzz_event found the
 * first, as clang's UBSan reports NULL + 0 (GCC's does not; the reproducer is in the fuzz
 * corpus as regress-redacted-empty-body); the walk must answer "no NUL" for all three. */
static void test_fields_raw_walk_stays_inside(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &dualsync__service_claim__descriptor;
    assert_true(fields_raw_strings_valid(d, NULL, 0, why));
    /* field 15 as fixed64 (key 0x79) with 3 of its 8 bytes; field 15 as fixed32 (0x7d)
     * with 1 of 4: the walk stops at the end of each, finding no string. */
    static const uint8_t cut64[] = {0x79, 1, 2, 3}, cut32[] = {0x7d, 1};
    uint8_t *b = malloc(sizeof cut64);
    memcpy(b, cut64, sizeof cut64);
    assert_true(fields_raw_strings_valid(d, b, sizeof cut64, why));
    memcpy(b, cut32, sizeof cut32);
    assert_true(fields_raw_strings_valid(d, b, sizeof cut32, why));
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_conventions_by_name),
        cmocka_unit_test(test_fields_codes_names_short_text),
        cmocka_unit_test(test_fields_enums_numbers_flags),
        cmocka_unit_test(test_fields_enum_names),
        cmocka_unit_test(test_fields_json_and_options),
        cmocka_unit_test(test_fields_list_limit),
        cmocka_unit_test(test_fields_raw_walk_stays_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
