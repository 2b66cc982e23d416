/* libFuzzer target: one frame as it arrives from the network. Everything the broker and a
 * node do with untrusted frame bytes before touching storage: decode the frame, open every
 * event it carries, check the author-side and body rules, verify a signature, and fold
 * the event into a member record and encode that. Must never crash, leak or hang. */
#include "fold.h"
#include "rules.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_event(const uint8_t *raw, size_t len)
{
    static const uint8_t key[KEYS_PUB_LEN] = {1};
    struct event ev;
    if (wire_event_open(raw, len, false, &ev) != 0)
        return;
    (void)wire_event_verify(&ev, key);
    if (rules_check(&ev) == 0 && ev.member[0]) {
        Dualsync__MemberRecord *rec = fold_new(ev.member);
        uint8_t digest[KEYS_DIGEST_LEN];
        fold_apply(&rec, &ev);
        fold_apply(&rec, &ev);
        fold_digest(rec, digest);
        fold_free(&rec);
    }
    wire_event_release(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Dualsync__Frame *f = wire_frame_unpack(data, size);
    if (!f)
        return 0;
    if (f->kind_case == DUALSYNC__FRAME__KIND_PUBLISH)
        for (size_t i = 0; i < f->publish->n_events; i++)
            exercise_event(f->publish->events[i].data, f->publish->events[i].len);
    if (f->kind_case == DUALSYNC__FRAME__KIND_DELIVER)
        for (size_t i = 0; i < f->deliver->n_events; i++)
            exercise_event(f->deliver->events[i].data, f->deliver->events[i].len);
    if (f->kind_case == DUALSYNC__FRAME__KIND_DIRECTORY)
        for (size_t i = 0; i < f->directory->n_events; i++)
            exercise_event(f->directory->events[i].data, f->directory->events[i].len);
    if (f->kind_case == DUALSYNC__FRAME__KIND_FETCHED)
        for (size_t i = 0; i < f->fetched->n_events; i++)
            exercise_event(f->fetched->events[i].data, f->fetched->events[i].len);
    wire_frame_free(f);
    return 0;
}
