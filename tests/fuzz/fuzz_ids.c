/* libFuzzer target: the identifier and text validators every field from the network or
 * an operator goes through (org and member ids, UTF-8, text, dates, event ids), plus
 * control requests as the daemons decode them. Must never crash or read out of bounds. */
#include "ctl.h"
#include "ids.h"
#include "wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    (void)ids_org_kind(s);
    (void)ids_member_valid(s);
    (void)ids_utf8_valid((const char *)data, size);
    (void)ids_text_valid(s, IDS_TEXT_MAX, true);
    (void)ids_date_valid(s);
    if (ids_event_id_parse(s, origin, &seq) && !ids_org_valid(origin))
        abort(); /* a parsed event id always names a valid org */
    free(s);

    Dualsync__CtlRequest *r = wire_unpack_ctl_request(data, size);
    if (r) {
        for (size_t i = 0; i < r->n_commands; i++)
            (void)ctl_arg(r->commands[i], "member");
        wire_msg_free(r);
    }
    return 0;
}
