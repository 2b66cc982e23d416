/* console_print: letters on paper. Every letter (a signed event) can be printed from the
 * node's console as an A4 sheet, and every printed letter carries a verification code
 * derived from the event's signed bytes, so that a paper copy can be checked against the
 * log: on the console's /verify page or with `dualsync --data D letter verify CODE`.
 * Three parts:
 *   - the code (letter_code, letter_code_parse): pure functions;
 *   - what a letter looks like to a reader (letter_describe): its title and its body's
 *     fields with labels and display values in both languages. The daemon's `letter`
 *     command (commands.c) puts them into its JSON, so the CLI and the pages print the
 *     same labels without a second table;
 *   - the print pages /letter and /verify, which run on web threads and reach the daemon
 *     only through control calls (console.h).
 * The first two are candidates for common/ (a broker console could print meetings). */
#ifndef DUALSYNC_NODE_CONSOLE_PRINT_H
#define DUALSYNC_NODE_CONSOLE_PRINT_H

#include "console.h"
#include "keys.h"
#include "wire.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The code: the first LETTER_CODE_BYTES bytes of BLAKE2b-256 (keys_digest) over the
 * event's SignedEvent bytes without the personal part (wire_event_strip: the signed bytes
 * and the signature; for a letter without a personal part, its bytes as stored and
 * forwarded), written in Crockford base32 (0-9 A-Z without I, L, O, U), 16 symbols in
 * groups of four: "7QX2-M4KD-0RTA-9HCE". It is the same on every holder, whether or not
 * it still keeps the personal part (erasure, retention), and anyone holding those bytes
 * can recompute it with b2sum -l 256. */
#define LETTER_CODE_BYTES 10
#define LETTER_CODE_SYMBOLS 16
#define LETTER_CODE_MAX 20 /* 16 symbols, 3 dashes, NUL */

/* Writes the code of ev into out. */
void letter_code(const struct event *ev, char out[LETTER_CODE_MAX]);
/* The digest the code is the start of. */
void letter_digest(const struct event *ev, uint8_t out[KEYS_DIGEST_LEN]);

/* Reads a typed code: case-insensitive, dashes and spaces ignored, and, as Crockford
 * base32 allows for hand-copied codes, I and L read as 1 and O as 0. DS_OK with the
 * LETTER_CODE_BYTES bytes in bytes_out; DS_EINVAL when it is not 16 such symbols. */
int letter_code_parse(const char *text, uint8_t bytes_out[LETTER_CODE_BYTES]);

/* Names an org for display ("和谐社区"), or NULL/"" when unknown. */
typedef const char *(*letter_org_name_fn)(const char *org, void *arg);

/* What a letter of type_name ("introduction", rules_type_name) with body (fields_json of
 * its body; may be NULL for a type this version does not know) looks like to a reader.
 * Sets in j (an object, borrowed):
 *   "title_zh", "title_en"  the letter's title ("住社区党员身份介绍函");
 *   "fields"                [{field, zh, en, text_zh, text_en}] in reading order: label and
 *                           display value in each language (enums named, booleans 是/否,
 *                           lists joined, org ids with their names via org_name).
 * A handling result's feedback_origin and feedback_seq become one field "feedback_id". */
void letter_describe(const char *type_name, json_t *body, letter_org_name_fn org_name, void *arg,
                     json_t *j);

/* The print pages, for the node's page table (node/console.c). Both are reads: any
 * account may use them, and every letter shown is audited ("view-letter", "verify-letter").
 *   GET /letter?id=ORG/SEQ  the letter as an A4 sheet;
 *   GET /verify[?code=C]    the form, and the letter a code belongs to (or none). */
void console_print_letter(struct page *pg);
void console_print_verify(struct page *pg);

#endif
