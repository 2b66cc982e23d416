/* ds-make-corpus: writes the seed corpus of the fuzz targets (tests/fuzz/corpus/) from
 * real encodings, so that the fuzzers start from valid frames, events and files and
 * mutate from there. Run: ds-make-corpus tests/fuzz/corpus  (deterministic except for
 * the signatures' keys, which are fixed by a seed below). */
#include "fields.h"
#include "keys.h"
#include "rules.h"
#include "wire.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void event(const struct keys *k, const char *origin, uint64_t seq, const char *member,
                  uint32_t type, const ProtobufCMessage *body, uint8_t **raw, size_t *len)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    wire_pack(body, &b, &bl);
    wire_event_build(k, origin, seq, ((uint64_t)1764300000000 << 16) + seq, member, type, b, bl,
                     raw, len);
    free(b);
}

/* One valid letter of every other type, built from option=value pairs, so the fuzzers
 * start inside each body's validator and fold branch. */
static const struct {
    uint32_t type;
    const char *origin, *member, *name, *fields;
} letters[] = {
    {15, "community:hexie", "DY-0001", "close", "reason=returned;date=2026-03-01;text=不在此居住"},
    {16, "unit:tax", "DY-0001", "move-out", "date=2026-07-01"},
    {17, "unit:tax", "DY-0001", "release", "date=2026-08-01;text=调出"},
    {18, "community:hexie", "DY-0001", "group", "group=b3;date=2026-02-03"},
    {19, "community:hexie", "DY-0001", "team", "team=patrol-1;date=2026-02-03"},
    {20, "community:hexie", "DY-0001", "attendance",
     "activity=community:hexie/9;kind=activity-day;date=2026-03-05;minutes=120"},
    {21, "unit:tax", "DY-0001", "opinion",
     "kind=excellent-member;subject=评优;due=2026-06-15;"
     "date=2026-06-01"},
    {22, "community:hexie", "DY-0001", "reply",
     "request=unit:tax/6;verdict=agree;text=同意;date=2026-06-10"},
    {23, "unit:tax", "DY-0001", "notice",
     "title=公示;matter=拟推荐;start=2026-06-22;"
     "end=2026-06-26;working-days=5"},
    {24, "community:hexie", "DY-0001", "notice-response",
     "notice=unit:tax/7;status=posted;date=2026-06-22"},
    {25, "unit:tax", "DY-0001", "visit", "date=2026-09-20;text=走访"},
    {26, "unit:tax", "DY-0001", "difficulty", "text=老人需照顾;date=2026-04-01"},
    {27, "community:hexie", "DY-0001", "resolved",
     "difficulty=unit:tax/8;text=已安排;date=2026-04-05"},
    {42, "community:hexie", "", "building-group", "group=b3;title=3号楼;leader=DY-0001"},
    {44, "community:hexie", "", "activity",
     "kind=activity-day;title=主题党日;date=2026-03-05;minutes=120"},
    {45, "community:hexie", "", "need", "kind=wish;title=书包;text=10个;date=2026-04-01"},
    {47, "community:hexie", "", "decision", "claim=unit:tax/9;approved=yes;date=2026-04-04"},
};

static void letter_seeds(const struct keys *k)
{
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
        const struct rule *r = rules_find(letters[i].type);
        ProtobufCMessage *body = fields_new(r->body);
        char spec[512], why[FIELDS_WHY_MAX];
        snprintf(spec, sizeof(spec), "%s", letters[i].fields);
        for (char *save = NULL, *kv = strtok_r(spec, ";", &save); kv;
             kv = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            if (fields_set(body, kv, eq + 1, why) != 0) {
                fprintf(stderr, "seed %s: %s\n", letters[i].name, why);
                exit(1);
            }
        }
        uint8_t *raw = NULL;
        size_t len = 0;
        event(k, letters[i].origin, 10 + i, letters[i].member, letters[i].type, body, &raw, &len);
        put("fuzz_event", letters[i].name, raw, len);
        free(raw);
        fields_free(body);
    }
}

int main(int argc, char **argv)
{
    struct keys k;
    uint8_t seed[crypto_sign_SEEDBYTES] = {7};
    if (argc != 2 || sodium_init() < 0)
        return 2;
    root = argv[1];
    mkdir(root, 0755);
    crypto_sign_seed_keypair(k.sign_pk, k.sign_sk, seed);

    uint8_t *ev[5];
    size_t evl[5];
    Dualsync__Introduction intro = DUALSYNC__INTRODUCTION__INIT;
    intro.community = (char *)"community:hexie";
    intro.name = (char *)"张建国";
    intro.report_days = 30;
    intro.date = (char *)"2026-01-08";
    event(&k, "unit:tax", 1, "DY-0001", DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, &intro.base,
          &ev[0], &evl[0]);
    Dualsync__ReportIn rep = DUALSYNC__REPORT_IN__INIT;
    rep.date = (char *)"2026-02-03";
    event(&k, "community:hexie", 1, "DY-0001", DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, &rep.base,
          &ev[1], &evl[1]);
    Dualsync__RegistrationCard card = DUALSYNC__REGISTRATION_CARD__INIT;
    card.occupation = (char *)"税务干部";
    card.willingness = (char *)"治安巡逻";
    card.rest_time = (char *)"周末";
    event(&k, "community:hexie", 2, "DY-0001", DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD,
          &card.base, &ev[2], &evl[2]);
    Dualsync__Feedback fb = DUALSYNC__FEEDBACK__INIT;
    fb.year = 2026;
    fb.rating = DUALSYNC__RATING__RATING_POOR;
    fb.non_participation = 1;
    fb.text = (char *)"全年未参加活动";
    event(&k, "community:hexie", 3, "DY-0001", DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK, &fb.base,
          &ev[3], &evl[3]);
    Dualsync__HandlingResult h = DUALSYNC__HANDLING_RESULT__INIT;
    h.feedback_origin = (char *)"community:hexie";
    h.feedback_seq = 3;
    h.action = DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM;
    h.text = (char *)"已批评教育";
    event(&k, "unit:tax", 2, "DY-0001", DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT, &h.base,
          &ev[4], &evl[4]);
    static const char *const names[] = {"intro", "report", "card", "feedback", "handling"};
    for (int i = 0; i < 5; i++)
        put("fuzz_event", names[i], ev[i], evl[i]);
    letter_seeds(&k);

    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    Dualsync__Hello hello = DUALSYNC__HELLO__INIT;
    hello.org = (char *)"unit:tax";
    hello.proto = 1;
    hello.own_seq = 2;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &hello;
    wire_pack(&f.base, &buf, &len);
    put("fuzz_frame", "hello", buf, len);
    free(buf);
    ProtobufCBinaryData bins[5];
    for (int i = 0; i < 5; i++)
        bins[i] = (ProtobufCBinaryData){evl[i], ev[i]};
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    pub.n_events = 5;
    pub.events = bins;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &pub;
    wire_pack(&f.base, &buf, &len);
    put("fuzz_frame", "publish", buf, len);
    free(buf);
    Dualsync__Deliver del = DUALSYNC__DELIVER__INIT;
    del.first = 3;
    del.n_events = 5;
    del.events = bins;
    del.inbox_head = 7;
    f.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
    f.deliver = &del;
    wire_pack(&f.base, &buf, &len);
    put("fuzz_frame", "deliver", buf, len);
    free(buf);
    Dualsync__Directory dir = DUALSYNC__DIRECTORY__INIT;
    dir.after = 2;
    dir.n_events = 5;
    dir.events = bins;
    dir.upto = 9;
    dir.head = 12;
    f.kind_case = DUALSYNC__FRAME__KIND_DIRECTORY;
    f.directory = &dir;
    wire_pack(&f.base, &buf, &len);
    put("fuzz_frame", "directory", buf, len);
    free(buf);
    Dualsync__Error err = DUALSYNC__ERROR__INIT;
    err.code = DUALSYNC__ERROR_CODE__ERROR_SIDE;
    err.message = (char *)"your side may not author this event type";
    err.seq = 4;
    f.kind_case = DUALSYNC__FRAME__KIND_ERROR;
    f.error = &err;
    wire_pack(&f.base, &buf, &len);
    put("fuzz_frame", "error", buf, len);
    free(buf);

    static const char card_text[] =
        "[org]\nid = community:hexie\nkind = community\nname = 和谐社区\n"
        "curve_key = 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        "sign_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    static const char node_text[] =
        "[node]\norg = unit:tax\nname = 市税务局\nbroker = tcp://127.0.0.1:7700\n"
        "durability = fsync\nreport_days = 30\nheartbeat_ms = 1000\nlog_level = info\n\n"
        "[org]\nid = street:jinyu\nkind = street\nname = 金宇街道\n"
        "curve_key = 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        "sign_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
        "endpoint = tcp://127.0.0.1:7700\n";
    static const char broker_text[] =
        "[broker]\nstreet = street:jinyu\nname = 金宇街道\nbind = tcp://127.0.0.1:7700\n"
        "durability = fsync\nwindow = 2048\nheartbeat_ms = 1000\nlog_level = info\n";
    put("fuzz_config", "card", card_text, sizeof(card_text) - 1);
    put("fuzz_config", "node", node_text, sizeof(node_text) - 1);
    put("fuzz_config", "broker", broker_text, sizeof(broker_text) - 1);

    static const char *const ids[] = {"unit:tax",   "community:hexie-3",  "DY-0001",
                                      "2024-02-29", "community:hexie/12", "和谐社区\n第二行"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "id%zu", i);
        put("fuzz_ids", name, ids[i], strlen(ids[i]));
    }
    for (int i = 0; i < 5; i++)
        free(ev[i]);
    return 0;
}
