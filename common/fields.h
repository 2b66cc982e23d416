/* fields: an event body seen through its protobuf-c descriptor, so that one validator,
 * one operator-argument reader and one JSON writer serve every letter type.
 * A field's name says what it holds, the same way in every message:
 *   date, due, start, end, *_date      a calendar day, YYYY-MM-DD
 *   community, feedback_origin         a community org id; org, attendees: any org id
 *   request, notice, difficulty, activity, need, claim, target    an event id "origin/seq"
 *   leader, claimant                   a member id
 *   group, team, kind (as a string)    a code [a-z0-9-]{1,48}
 *   side                               "unit" or "community"
 *   categories, lead                   short list items (<= 64 bytes each)
 *   name, title, subject               a name (<= 128 bytes, one line)
 *   text, decisions, matter            free text (<= 4096 bytes)
 *   period                             "YYYY" or "YYYY-Qn"
 *   any other string                   short text (<= 256 bytes)
 * Numbers have ranges by name (year, report_days, minutes, ...), enums must be one of
 * their declared non-zero values, and every string is UTF-8 without control characters.
 * Empty strings and zero values mean "not given"; `required` names the fields that must be
 * given. */
#ifndef DUALSYNC_FIELDS_H
#define DUALSYNC_FIELDS_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIELDS_SHORT_MAX 256
#define FIELDS_ITEM_MAX 64
#define FIELDS_LIST_MAX 256
#define FIELDS_WHY_MAX 512

/* Checks a decoded message; required is a comma separated list of field names (or NULL).
 * On false, why (size FIELDS_WHY_MAX) names the field and the rule it broke, in Chinese,
 * a newline, then in English (fields_why_zh / fields_why_en take them apart). */
bool fields_valid(const ProtobufCMessage *msg, const char *required, char *why);

/* False (why says which field) when a string field of the raw body, nested messages
 * included, holds a NUL byte: protobuf-c would hand it over cut short, so what a screen
 * shows would differ from what was signed. */
bool fields_raw_strings_valid(const ProtobufCMessageDescriptor *desc, const uint8_t *body,
                              size_t len, char *why);

/* Decodes body with desc and checks it (fields_valid, fields_raw_strings_valid). */
bool fields_body_valid(const ProtobufCMessageDescriptor *desc, const uint8_t *body, size_t len,
                       const char *required, char *why);

/* A fresh, empty message of desc, to fill with fields_set and free with fields_free. */
ProtobufCMessage *fields_new(const ProtobufCMessageDescriptor *desc);
void fields_free(ProtobufCMessage *msg);

/* A list as people type it, "治安巡逻，政策宣讲", "a、 b" or "a, b", as "a,b": items split at
 * an ASCII or full-width comma or semicolon or the enumeration comma 、, blanks (ASCII or
 * ideographic) around an item dropped, empty items skipped. Caller frees. */
char *fields_list_canonical(const char *text);

/* The halves of a why: the English one (after the newline), and the Chinese one copied
 * into out. A why of one line is both. */
const char *fields_why_en(const char *why);
void fields_why_zh(const char *why, char *out, size_t size);

/* Sets the field named by an operator option ("rest-time" -> rest_time) from text:
 * strings as given, repeated strings as a list (fields_list_canonical), numbers in decimal, enums
 * by their short name ("poor", "no-action"), booleans from "", "yes", "true", "1" / "no", "false",
 * "0". Syntax only: fields_valid judges the values. DS_OK, DS_ENOTFOUND (no such field),
 * DS_EINVAL (bad number, enum or boolean; why says which). */
int fields_set(ProtobufCMessage *msg, const char *option, const char *text, char *why);

/* Reads a string field by name; "" when unset or not a string field. */
const char *fields_get_str(const ProtobufCMessage *msg, const char *name);

/* The message as a JSON object: enums by short name, repeated fields as arrays, nested
 * messages as objects. */
json_t *fields_json(const ProtobufCMessage *msg);

/* Short name of an enum value ("RATING_POOR" -> "poor", "HANDLING_NO_ACTION" ->
 * "no-action"); "" for 0 and for values the enum does not declare. buf >= 64 bytes. */
const char *fields_enum_name(const ProtobufCEnumDescriptor *e, int value, char *buf);

/* The option names of desc's fields, comma separated, for the CLI's option spec: every
 * field takes a value ("name:"), booleans are flags ("leave"). Caller frees. */
char *fields_options(const ProtobufCMessageDescriptor *desc);

/* The Chinese name of a body field ("contact" -> "联系方式"), or the name itself. */
const char *fields_label_zh(const char *name);

#endif
