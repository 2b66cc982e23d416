/* libFuzzer target: the event validator on raw SignedEvent bytes (as stored and
 * forwarded): open, syntax, signature, author side and body rules, and the fold of the
 * event after a valid introduction, so body decoders run on hostile bytes in every branch.
 * Must never crash, leak or hang. */
#include "fold.h"
#include "rules.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[KEYS_PUB_LEN] = {2};
    struct event ev;
    if (wire_event_open(data, size, true, &ev) != 0)
        return 0;
    (void)wire_event_verify(&ev, key);
    (void)rules_check(&ev);
    if (ev.member[0]) {
        /* A record whose unit and community are the event's origin, so that every
         * type-specific branch of the fold decodes the body. */
        Dualsync__MemberRecord *rec = fold_new(ev.member);
        rec->unit = strdup(ev.origin); /* fresh records hold the static empty string */
        rec->community = strdup(ev.origin);
        fold_apply(&rec, &ev);
        uint8_t *bytes = NULL;
        size_t len = 0;
        fold_encode(rec, &bytes, &len);
        Dualsync__MemberRecord *back = fold_decode(bytes, len);
        fold_free(&back);
        free(bytes);
        fold_free(&rec);
    }
    wire_event_release(&ev);
    return 0;
}
