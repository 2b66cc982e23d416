/* fold: a record is a Dualsync__MemberRecord whose strings and arrays are heap-allocated,
 * exactly as protobuf-c's unpack would allocate them, so one free_unpacked releases a
 * record whether it was decoded from the store or built here. */
#include "fold.h"

#include "ids.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

/* Appends item to a protobuf-c repeated field (array pointer and count). */
#define APPEND(arr, n, item)                                                                       \
    do {                                                                                           \
        (arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr)));                                       \
        (arr)[(n)++] = (item);                                                                     \
    } while (0)

static void set_str(char **field, const char *value)
{
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = xstrdup(value);
}

static void set_id(char **field, const struct event *ev)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    set_str(field, id);
}

static void set_list(char ***arr, size_t *n, char **from, size_t count)
{
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
    for (size_t i = 0; i < count; i++)
        APPEND(*arr, *n, xstrdup(from[i]));
}

Dualsync__MemberRecord *fold_new(const char *member)
{
    Dualsync__MemberRecord *rec = xmalloc(sizeof(*rec));
    dualsync__member_record__init(rec);
    set_str(&rec->member, member);
    return rec;
}

void fold_free(Dualsync__MemberRecord **recp)
{
    if (*recp)
        dualsync__member_record__free_unpacked(*recp, NULL);
    *recp = NULL;
}

/* Every body is unpacked the same way; NULL bodies (which rules_check already refused)
 * change nothing. */
#define BODY(type, lower)                                                                          \
    ((Dualsync__##type *)wire_unpack_body(&dualsync__##lower##__descriptor, ev->body, ev->body_len))

/* ---------------------------------------------------------------- claims
 * Until a report-in names an introduction, a second unit's introduction of the member is a
 * claim, not a refusal (a unit that introduced a member id first must not own a real
 * person by it). Each claim is folded as the registration it would be: its introduction
 * and its unit's later letters. A report-in from the claim's community naming its letter
 * makes the claim the record; a return naming it, or its unit's move-out or release,
 * drops it. The broker routes by the same rules (broker/routing.c), so every holder of
 * the confirmed registration folds the same record. */

static void apply_one(Dualsync__MemberRecord **recp, const struct event *ev);

static long claim_where(const Dualsync__MemberRecord *rec, const char *unit, const char *intro)
{
    for (size_t i = 0; i < rec->n_claims; i++)
        if ((unit && strcmp(rec->claims[i]->unit, unit) == 0) ||
            (intro && strcmp(rec->claims[i]->intro_id, intro) == 0))
            return (long)i;
    return -1;
}

static void drop_claim(Dualsync__MemberRecord *rec, size_t i)
{
    fold_free(&rec->claims[i]);
    memmove(&rec->claims[i], &rec->claims[i + 1], (rec->n_claims - i - 1) * sizeof(*rec->claims));
    rec->n_claims--;
}

static void drop_claims(Dualsync__MemberRecord *rec)
{
    while (rec->n_claims)
        drop_claim(rec, rec->n_claims - 1);
}

/* An introduction of another unit: into its claim, or a new claim (at most
 * FOLD_CLAIMS_MAX; the broker refuses the next one). */
static void claim_apply(Dualsync__MemberRecord *rec, const struct event *ev)
{
    long i = claim_where(rec, ev->origin, NULL);
    if (i >= 0) {
        apply_one(&rec->claims[i], ev);
        return;
    }
    if (rec->n_claims >= FOLD_CLAIMS_MAX)
        return;
    Dualsync__MemberRecord *claim = fold_new(rec->member);
    apply_one(&claim, ev);
    APPEND(rec->claims, rec->n_claims, claim);
}

/* The named introduction (report-in, return) of a body that may name one; "" if none. */
static char *named_intro(const struct event *ev)
{
    char *intro = NULL;
    if (ev->type == T(REPORT_IN)) {
        Dualsync__ReportIn *b = BODY(ReportIn, report_in);
        intro = xstrdup(b ? b->intro : "");
        wire_msg_free(b);
    } else if (ev->type == T(REGISTRATION_CLOSE)) {
        Dualsync__RegistrationClose *b = BODY(RegistrationClose, registration_close);
        intro = xstrdup(b ? b->intro : "");
        wire_msg_free(b);
    }
    return intro ? intro : xstrdup("");
}

/* Handles ev when it concerns a claim: a letter of a claim's unit goes to that claim; a
 * return naming a claim's letter drops it; a report-in naming one makes it the record
 * (*recp is replaced; the caller then applies the report-in to it). True when ev is done
 * with; false when the caller goes on with *recp. */
static bool claim_event(Dualsync__MemberRecord **recp, const struct event *ev)
{
    Dualsync__MemberRecord *rec = *recp;
    if (!rec->n_claims)
        return false;
    long i = claim_where(rec, ev->origin, NULL);
    if (i >= 0) {
        apply_one(&rec->claims[i], ev);
        if (rec->claims[i]->closed)
            drop_claim(rec, (size_t)i);
        return true;
    }
    char *intro = named_intro(ev);
    i = intro[0] ? claim_where(rec, NULL, intro) : -1;
    free(intro);
    if (i < 0 || strcmp(rec->claims[i]->community, ev->origin) != 0)
        return false;
    if (ev->type == T(REGISTRATION_CLOSE)) {
        drop_claim(rec, (size_t)i);
        return true;
    }
    Dualsync__MemberRecord *claim = rec->claims[i]; /* a report-in: the member's letter */
    rec->claims[i] = NULL;
    drop_claim(rec, (size_t)i);
    fold_free(recp);
    *recp = claim;
    return false;
}

/* ---------------------------------------------------------------- registration */

static void reset(Dualsync__MemberRecord **recp)
{
    Dualsync__MemberRecord *fresh = fold_new((*recp)->member);
    fold_free(recp);
    *recp = fresh;
}

static void start_registration(Dualsync__MemberRecord *rec, const struct event *ev,
                               const Dualsync__Introduction *b)
{
    set_str(&rec->name, b->name);
    set_str(&rec->unit, ev->origin);
    set_str(&rec->community, b->community);
    set_str(&rec->intro_date, b->date);
    set_str(&rec->intro_contact, b->contact);
    set_id(&rec->intro_id, ev);
    rec->report_days = b->report_days;
}

/* Returns whether the introduction belongs to this record (and so counts). */
static bool apply_introduction(Dualsync__MemberRecord **recp, const struct event *ev)
{
    Dualsync__Introduction *b = BODY(Introduction, introduction);
    Dualsync__MemberRecord *rec = *recp;
    /* As the broker routes: a closed registration restarts only by its own unit, unless
     * the unit released the member. */
    bool own_unit = strcmp(rec->unit, ev->origin) == 0;
    bool fresh = !rec->unit[0] || rec->closed == DUALSYNC__CLOSE_REASON__CLOSE_RELEASED ||
                 (rec->closed && own_unit);
    bool same =
        !fresh && !rec->closed && own_unit && strcmp(rec->community, b ? b->community : "") == 0;
    if (!b || (!fresh && !same)) {
        /* Another unit while no report-in has confirmed this registration: a claim, folded
         * apart (claim_apply); otherwise conflicting, and the broker refused to route it. */
        bool claim = b && !rec->confirmed && !own_unit;
        wire_msg_free(b);
        if (claim)
            claim_apply(rec, ev);
        return false;
    }
    if (fresh && rec->unit[0])
        reset(recp);
    start_registration(*recp, ev, b);
    wire_msg_free(b);
    return true;
}

static void close_registration(Dualsync__MemberRecord *rec, Dualsync__CloseReason reason,
                               const char *date, const char *text)
{
    rec->closed = reason;
    set_str(&rec->closed_date, date);
    set_str(&rec->closed_text, text);
}

static void apply_close(Dualsync__MemberRecord *rec, const struct event *ev)
{
    if (ev->type == T(REGISTRATION_CLOSE)) {
        Dualsync__RegistrationClose *b = BODY(RegistrationClose, registration_close);
        if (b)
            close_registration(rec, b->reason, b->date, b->text);
        wire_msg_free(b);
    } else if (ev->type == T(MOVE_OUT)) {
        Dualsync__MoveOut *b = BODY(MoveOut, move_out);
        if (b)
            close_registration(rec, DUALSYNC__CLOSE_REASON__CLOSE_MOVED, b->date, "");
        wire_msg_free(b);
    } else {
        Dualsync__UnitRelease *b = BODY(UnitRelease, unit_release);
        if (b)
            close_registration(rec, DUALSYNC__CLOSE_REASON__CLOSE_RELEASED, b->date, b->text);
        wire_msg_free(b);
    }
}

/* ---------------------------------------------------------------- community letters */

static void apply_report_in(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__ReportIn *b = BODY(ReportIn, report_in);
    if (!b)
        return;
    rec->reported = true;
    rec->confirmed = true;
    set_str(&rec->report_date, b->date);
    set_id(&rec->report_id, ev);
    wire_msg_free(b);
    drop_claims(rec); /* the member brought this registration's letter: the others lapse */
}

/* A card event carries the whole card: it replaces the previous one. */
static void apply_card(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__RegistrationCard *b = BODY(RegistrationCard, registration_card);
    if (!b)
        return;
    set_str(&rec->occupation, b->occupation);
    set_str(&rec->willingness, b->willingness);
    set_str(&rec->rest_time, b->rest_time);
    set_str(&rec->skills, b->skills);
    set_str(&rec->contact, b->contact);
    set_list(&rec->categories, &rec->n_categories, b->categories, b->n_categories);
    wire_msg_free(b);
}

static void apply_feedback(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Feedback *b = BODY(Feedback, feedback);
    if (!b)
        return;
    Dualsync__FeedbackEntry *e = xmalloc(sizeof(*e));
    dualsync__feedback_entry__init(e);
    set_id(&e->event_id, ev);
    set_str(&e->text, b->text);
    set_str(&e->date, b->date);
    set_str(&e->period, b->period);
    e->year = b->year;
    e->rating = b->rating;
    e->non_participation = b->non_participation;
    e->poor_conduct = b->poor_conduct;
    e->activities = b->activities;
    e->minutes = b->minutes;
    e->hlc = ev->hlc;
    set_list(&e->lead, &e->n_lead, b->lead, b->n_lead);
    APPEND(rec->feedback, rec->n_feedback, e);
    wire_msg_free(b);
}

static void apply_group(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__GroupAssign *b = BODY(GroupAssign, group_assign);
    if (b)
        set_str(&rec->group, b->group);
    wire_msg_free(b);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Teams are a sorted set, so the record does not depend on join order. */
static void apply_team(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__TeamMembership *b = BODY(TeamMembership, team_membership);
    if (!b)
        return;
    size_t i = 0;
    while (i < rec->n_teams && strcmp(rec->teams[i], b->team) != 0)
        i++;
    if (b->leave && i < rec->n_teams) {
        free(rec->teams[i]);
        rec->teams[i] = rec->teams[--rec->n_teams];
    } else if (!b->leave && i == rec->n_teams) {
        APPEND(rec->teams, rec->n_teams, xstrdup(b->team));
    }
    if (rec->n_teams > 1)
        qsort(rec->teams, rec->n_teams, sizeof(*rec->teams), str_cmp);
    wire_msg_free(b);
}

static void apply_attendance(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Attendance *b = BODY(Attendance, attendance);
    if (!b)
        return;
    Dualsync__AttendanceEntry *e = xmalloc(sizeof(*e));
    dualsync__attendance_entry__init(e);
    set_id(&e->event_id, ev);
    set_str(&e->activity, b->activity);
    set_str(&e->kind, b->kind);
    set_str(&e->date, b->date);
    e->minutes = b->minutes;
    APPEND(rec->attendance, rec->n_attendance, e);
    wire_msg_free(b);
}

static void apply_opinion_reply(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__OpinionReply *b = BODY(OpinionReply, opinion_reply);
    for (size_t i = 0; b && i < rec->n_opinions; i++) {
        Dualsync__OpinionEntry *e = rec->opinions[i];
        if (strcmp(e->event_id, b->request) == 0) {
            set_id(&e->reply_id, ev);
            e->verdict = b->verdict;
            set_str(&e->reply_text, b->text);
            set_str(&e->reply_date, b->date);
        }
    }
    wire_msg_free(b);
}

static void apply_notice_response(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__NoticeResponse *b = BODY(NoticeResponse, notice_response);
    for (size_t i = 0; b && i < rec->n_notices; i++) {
        Dualsync__NoticeEntry *e = rec->notices[i];
        if (strcmp(e->event_id, b->notice) != 0)
            continue;
        if (b->status == DUALSYNC__NOTICE_STATUS__NOTICE_POSTED) {
            set_str(&e->posted_date, b->date);
        } else {
            e->outcome = b->status;
            set_str(&e->outcome_text, b->text);
            set_str(&e->outcome_date, b->date);
        }
    }
    wire_msg_free(b);
}

static void apply_difficulty_resolved(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__DifficultyResolved *b = BODY(DifficultyResolved, difficulty_resolved);
    for (size_t i = 0; b && i < rec->n_difficulties; i++) {
        Dualsync__DifficultyEntry *e = rec->difficulties[i];
        if (strcmp(e->event_id, b->difficulty) == 0) {
            set_id(&e->resolved_id, ev);
            set_str(&e->resolved_date, b->date);
            set_str(&e->resolution, b->text);
        }
    }
    wire_msg_free(b);
}

/* ---------------------------------------------------------------- unit letters */

static void apply_handling(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__HandlingResult *b = BODY(HandlingResult, handling_result);
    char fid[IDS_EVENT_ID_MAX];
    if (!b)
        return;
    Dualsync__HandlingEntry *e = xmalloc(sizeof(*e));
    dualsync__handling_entry__init(e);
    ids_event_id(fid, sizeof(fid), b->feedback_origin, b->feedback_seq);
    set_id(&e->event_id, ev);
    set_str(&e->feedback_id, fid);
    set_str(&e->text, b->text);
    set_str(&e->date, b->date);
    e->action = b->action;
    e->hlc = ev->hlc;
    APPEND(rec->handling, rec->n_handling, e);
    wire_msg_free(b);
}

static void apply_opinion_request(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__OpinionRequest *b = BODY(OpinionRequest, opinion_request);
    if (!b)
        return;
    Dualsync__OpinionEntry *e = xmalloc(sizeof(*e));
    dualsync__opinion_entry__init(e);
    set_id(&e->event_id, ev);
    e->kind = b->kind;
    set_str(&e->subject, b->subject);
    set_str(&e->due, b->due);
    set_str(&e->date, b->date);
    APPEND(rec->opinions, rec->n_opinions, e);
    wire_msg_free(b);
}

static void apply_notice(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__PublicNotice *b = BODY(PublicNotice, public_notice);
    if (!b)
        return;
    Dualsync__NoticeEntry *e = xmalloc(sizeof(*e));
    dualsync__notice_entry__init(e);
    set_id(&e->event_id, ev);
    set_str(&e->title, b->title);
    set_str(&e->matter, b->matter);
    set_str(&e->start, b->start);
    set_str(&e->end, b->end);
    APPEND(rec->notices, rec->n_notices, e);
    wire_msg_free(b);
}

static void apply_visit(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__UnitVisit *b = BODY(UnitVisit, unit_visit);
    if (!b)
        return;
    Dualsync__VisitEntry *e = xmalloc(sizeof(*e));
    dualsync__visit_entry__init(e);
    set_id(&e->event_id, ev);
    set_str(&e->date, b->date);
    set_str(&e->text, b->text);
    APPEND(rec->visits, rec->n_visits, e);
    wire_msg_free(b);
}

static void apply_difficulty(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Difficulty *b = BODY(Difficulty, difficulty);
    if (!b)
        return;
    Dualsync__DifficultyEntry *e = xmalloc(sizeof(*e));
    dualsync__difficulty_entry__init(e);
    set_id(&e->event_id, ev);
    set_str(&e->text, b->text);
    set_str(&e->date, b->date);
    APPEND(rec->difficulties, rec->n_difficulties, e);
    wire_msg_free(b);
}

/* ---------------------------------------------------------------- corrections */

/* A correction or withdrawal touches only a letter of its own author: the target's origin
 * must be the event's. Its hlc is above the target's (the author wrote the target first),
 * so in fold order the target is already applied; a target that is not in the record
 * (withdrawn, or of another registration) is left alone. */
static bool own_target(const struct event *ev, const char *target)
{
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    return ids_event_id_parse(target, origin, &seq) && strcmp(origin, ev->origin) == 0 &&
           seq < ev->seq;
}

/* The index of the entry of a list (FeedbackEntry, VisitEntry, ...) whose event_id is
 * target, or -1. The field is found through each entry's descriptor. */
static long find_entry(void **entries, size_t n, const char *target)
{
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessage *m = entries[i];
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "event_id");
        if (f && strcmp(*(char *const *)((const char *)m + f->offset), target) == 0)
            return (long)i;
    }
    return -1;
}

static void apply_correction(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Correction *b = BODY(Correction, correction);
    long i;
    if (!b || !own_target(ev, b->target)) {
        wire_msg_free(b);
        return;
    }
    if (strcmp(rec->intro_id, b->target) == 0) {
        if (b->name[0])
            set_str(&rec->name, b->name);
        if (b->contact[0])
            set_str(&rec->intro_contact, b->contact);
    } else if ((i = find_entry((void **)rec->feedback, rec->n_feedback, b->target)) >= 0) {
        if (b->rating)
            rec->feedback[i]->rating = b->rating;
        if (b->text[0])
            set_str(&rec->feedback[i]->text, b->text);
    } else if ((i = find_entry((void **)rec->handling, rec->n_handling, b->target)) >= 0) {
        if (b->action)
            rec->handling[i]->action = b->action;
        if (b->text[0])
            set_str(&rec->handling[i]->text, b->text);
    } else if ((i = find_entry((void **)rec->visits, rec->n_visits, b->target)) >= 0) {
        if (b->text[0])
            set_str(&rec->visits[i]->text, b->text);
    } else if ((i = find_entry((void **)rec->difficulties, rec->n_difficulties, b->target)) >= 0) {
        if (b->text[0])
            set_str(&rec->difficulties[i]->text, b->text);
    }
    wire_msg_free(b);
}

/* Removes entry i of a repeated message field, keeping the others in fold order. */
static void drop_entry(void **entries, size_t *n, long i)
{
    protobuf_c_message_free_unpacked(entries[i], NULL);
    memmove(&entries[i], &entries[i + 1], (*n - (size_t)i - 1) * sizeof(*entries));
    (*n)--;
}

bool fold_holds(const Dualsync__MemberRecord *rec, const char *event_id)
{
    if (strcmp(rec->intro_id, event_id) == 0 || strcmp(rec->report_id, event_id) == 0)
        return true;
    void **const lists[] = {(void **)rec->feedback,    (void **)rec->handling,
                            (void **)rec->attendance,  (void **)rec->opinions,
                            (void **)rec->notices,     (void **)rec->visits,
                            (void **)rec->difficulties};
    const size_t counts[] = {rec->n_feedback, rec->n_handling, rec->n_attendance,  rec->n_opinions,
                             rec->n_notices,  rec->n_visits,   rec->n_difficulties};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
        if (find_entry(lists[k], counts[k], event_id) >= 0)
            return true;
    return false;
}

static void apply_withdrawal(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Withdrawal *b = BODY(Withdrawal, withdrawal);
    if (!b || !own_target(ev, b->target)) {
        wire_msg_free(b);
        return;
    }
    if (strcmp(rec->report_id, b->target) == 0) {
        rec->reported = false;
        set_str(&rec->report_date, "");
        set_str(&rec->report_id, "");
    }
    /* the record's lists a withdrawal may take a letter out of */
    struct {
        void **entries;
        size_t *n;
    } lists[] = {
        {(void **)rec->feedback, &rec->n_feedback},
        {(void **)rec->handling, &rec->n_handling},
        {(void **)rec->attendance, &rec->n_attendance},
        {(void **)rec->opinions, &rec->n_opinions},
        {(void **)rec->notices, &rec->n_notices},
        {(void **)rec->visits, &rec->n_visits},
        {(void **)rec->difficulties, &rec->n_difficulties},
    };
    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
        long i = find_entry(lists[k].entries, *lists[k].n, b->target);
        if (i >= 0)
            drop_entry(lists[k].entries, lists[k].n, i);
    }
    wire_msg_free(b);
}

/* ---------------------------------------------------------------- dispatch */

static void apply_body(Dualsync__MemberRecord *rec, const struct event *ev)
{
    switch (ev->type) {
    case T(REPORT_IN):
        apply_report_in(rec, ev);
        break;
    case T(REGISTRATION_CARD):
        apply_card(rec, ev);
        break;
    case T(FEEDBACK):
        apply_feedback(rec, ev);
        break;
    case T(HANDLING_RESULT):
        apply_handling(rec, ev);
        break;
    case T(REGISTRATION_CLOSE):
    case T(MOVE_OUT):
    case T(UNIT_RELEASE):
        apply_close(rec, ev);
        break;
    case T(GROUP_ASSIGN):
        apply_group(rec, ev);
        break;
    case T(TEAM_MEMBERSHIP):
        apply_team(rec, ev);
        break;
    case T(ATTENDANCE):
        apply_attendance(rec, ev);
        break;
    case T(OPINION_REQUEST):
        apply_opinion_request(rec, ev);
        break;
    case T(OPINION_REPLY):
        apply_opinion_reply(rec, ev);
        break;
    case T(PUBLIC_NOTICE):
        apply_notice(rec, ev);
        break;
    case T(NOTICE_RESPONSE):
        apply_notice_response(rec, ev);
        break;
    case T(UNIT_VISIT):
        apply_visit(rec, ev);
        break;
    case T(DIFFICULTY):
        apply_difficulty(rec, ev);
        break;
    case T(DIFFICULTY_RESOLVED):
        apply_difficulty_resolved(rec, ev);
        break;
    case T(CORRECTION):
        apply_correction(rec, ev);
        break;
    case T(WITHDRAWAL):
        apply_withdrawal(rec, ev);
        break;
    default:
        break; /* unknown types: counted, no field changes */
    }
}

/* ---------------------------------------------------------------- erasure */

static void clear_str(char **field)
{
    set_str(field, "");
}

/* Every personal field of the record (common/personal.c names them in the letters): what
 * is left are ids, dates, enums and counts. */
static void clear_fields(Dualsync__MemberRecord *rec)
{
    char **own[] = {&rec->name,   &rec->occupation, &rec->willingness,   &rec->rest_time,
                    &rec->skills, &rec->contact,    &rec->intro_contact, &rec->closed_text};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        clear_str(own[i]);
    set_list(&rec->categories, &rec->n_categories, NULL, 0);
    for (size_t i = 0; i < rec->n_feedback; i++)
        clear_str(&rec->feedback[i]->text);
    for (size_t i = 0; i < rec->n_handling; i++)
        clear_str(&rec->handling[i]->text);
    for (size_t i = 0; i < rec->n_opinions; i++) {
        clear_str(&rec->opinions[i]->subject);
        clear_str(&rec->opinions[i]->reply_text);
    }
    for (size_t i = 0; i < rec->n_notices; i++) {
        clear_str(&rec->notices[i]->title);
        clear_str(&rec->notices[i]->matter);
        clear_str(&rec->notices[i]->outcome_text);
    }
    for (size_t i = 0; i < rec->n_visits; i++)
        clear_str(&rec->visits[i]->text);
    for (size_t i = 0; i < rec->n_difficulties; i++) {
        clear_str(&rec->difficulties[i]->text);
        clear_str(&rec->difficulties[i]->resolution);
    }
}

static void clear_personal(Dualsync__MemberRecord *rec)
{
    clear_fields(rec);
    drop_claims(rec); /* other units' introductions: a name each */
}

/* The member's unit erases its personal fields; from then on the record is frozen,
 * whatever letter comes later in fold order. The unit of the record, open or closed, but
 * not after it released the member (no longer its member) nor while another unit's claim
 * waits for the report-in (whose member it is is undecided): broker/routing.c
 * route_erase holds the same rule. */
static bool apply_erase(Dualsync__MemberRecord *rec, const struct event *ev)
{
    if (!rec->unit[0] || strcmp(rec->unit, ev->origin) != 0 ||
        rec->closed == DUALSYNC__CLOSE_REASON__CLOSE_RELEASED || (!rec->confirmed && rec->n_claims))
        return false;
    Dualsync__MemberErase *b = BODY(MemberErase, member_erase);
    if (!b)
        return false;
    clear_personal(rec);
    rec->erased = true;
    rec->erased_reason = b->reason;
    set_str(&rec->erased_date, b->date);
    wire_msg_free(b);
    return true;
}

/* Whether ev is written by one of the record's two sides, as its type demands. The
 * community's letters wait for the report-in that confirms which unit the member belongs
 * to, all but the report-in itself and a return; those two must name this registration's
 * introduction, if they name one. */
static bool from_current_side(const Dualsync__MemberRecord *rec, const struct event *ev)
{
    enum org_kind kind = ids_org_kind(ev->origin);
    if (rec->closed || !rec->unit[0])
        return false;
    if (kind == ORG_UNIT)
        return strcmp(rec->unit, ev->origin) == 0;
    if (kind != ORG_COMMUNITY || strcmp(rec->community, ev->origin) != 0)
        return false;
    if (ev->type != T(REPORT_IN) && ev->type != T(REGISTRATION_CLOSE))
        return rec->confirmed;
    char *intro = named_intro(ev);
    bool ours = !intro[0] || strcmp(intro, rec->intro_id) == 0;
    free(intro);
    return ours;
}

static void apply_one(Dualsync__MemberRecord **recp, const struct event *ev)
{
    bool counts;
    if ((*recp)->erased) {
        return;
    } else if (ev->type == T(MEMBER_ERASE)) {
        counts = apply_erase(*recp, ev);
    } else if (ev->type == T(INTRODUCTION)) {
        counts = apply_introduction(recp, ev);
    } else if (claim_event(recp, ev)) {
        return;
    } else {
        counts = from_current_side(*recp, ev);
        if (counts)
            apply_body(*recp, ev);
    }
    if (!counts)
        return;
    (*recp)->events++;
    if (ev->hlc > (*recp)->last_hlc)
        (*recp)->last_hlc = ev->hlc;
}

void fold_apply(Dualsync__MemberRecord **recp, const struct event *ev)
{
    apply_one(recp, ev);
}

void fold_encode(const Dualsync__MemberRecord *rec, uint8_t **out, size_t *len_out)
{
    wire_pack(&rec->base, out, len_out);
}

Dualsync__MemberRecord *fold_decode(const uint8_t *data, size_t len)
{
    return wire_unpack_member_record(data, len);
}

void fold_digest(const Dualsync__MemberRecord *rec, uint8_t out[KEYS_DIGEST_LEN])
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fold_encode(rec, &bytes, &len);
    keys_digest(bytes, len, out);
    free(bytes);
}

void fold_digest_hex(const Dualsync__MemberRecord *rec, char *out)
{
    uint8_t d[KEYS_DIGEST_LEN];
    fold_digest(rec, d);
    keys_hex(d, sizeof(d), out);
}

void fold_clear_digest_hex(const Dualsync__MemberRecord *rec, char *out)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fold_encode(rec, &bytes, &len);
    Dualsync__MemberRecord *copy = fold_decode(bytes, len);
    free(bytes);
    clear_fields(copy);
    for (size_t i = 0; i < copy->n_claims; i++)
        clear_fields(copy->claims[i]);
    fold_digest_hex(copy, out);
    fold_free(&copy);
}
