#!/usr/bin/env bash
# Retention and erasure (issue 11, item 5; docs/ARCHITECTURE.md "Retention and erasure",
# docs/OPERATIONS.md "A member asks to be erased"). The check is an auditor's: a byte
# search (grep -r -a) of every file of every data directory, the broker's included, with
# the other members' strings as the control that the search still finds what is kept
# (after a scrub the store is LZ4-compressed SST files).
#  - before: E's name, phone, card, feedback and visit texts are found on the unit, the
#    community and the broker;
#  - another unit's erasure: refused by its own CLI for a member it does not hold; for a
#    member it holds by its own (refused) introduction, stored by the broker and delivered
#    to nobody (counters.refused), and nobody drops anything;
#  - the unit erases E while a card from the community is in flight: unit, community and
#    broker end with E erased (member show .erased, .erased_reason, .erased_date,
#    .personal; member history keeps no personal part), equal digests, and no file holding
#    E's strings; K is untouched; no more letters about E, and no read shows E's name;
#  - a community restored from the broker after the erasure, and a broker rebuilt from the
#    nodes, hold nothing of E again, with the same digests;
#  - retention: a community keeps a released member R under the default policy; with
#    former_member_days = 0 it drops R at its start, and K right after K moved away (ids,
#    dates and counts stay; the unit, the broker and the new community keep them), also
#    after a restore from the broker;
#  - the unit's erasure of K reaches the former community and the new one, which is
#    offline at the time (the broker forgets at once, the new community when it is back);
#    the unit and the broker are SIGKILLed before their scrub and finish it at start.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 2
for n in br u1 u2 c1 c2; do start "$n"; done
wait_ready u1 u2 c1 c2
NODES=(u1 u2 c1 c2)
DIRS=(br u1 u2 c1 c2)
TODAY=$(date +%F)

E=ER-0001 E_NAME=欧阳铁柱 E_PHONE=13912340001
K=ER-0002 K_NAME=上官明月 K_PHONE=18655559876
R=ER-0003 R_NAME=独孤求败 R_PHONE=13700004242
E_JOB=独特职业甲 E_FEEDBACK=独特反馈文字乙 E_VISIT=独特走访文字丙 E_JOB2=迟到职业丁
E_STRINGS=("$E_NAME" "$E_PHONE" "$E_JOB" "$E_FEEDBACK" "$E_VISIT" "$E_JOB2")
K_STRINGS=("$K_NAME" "$K_PHONE")
R_STRINGS=("$R_NAME" "$R_PHONE")

# holders STRING NAME...: the files under the data directories of NAME... whose bytes hold
# STRING (RocksDB deletes files during a compaction: a vanished file is no answer).
holders() {
    local s=$1 n dirs=()
    shift
    for n in "$@"; do dirs+=("$T/$n"); done
    LC_ALL=C grep -r -a -l -F -D skip -e "$s" -- "${dirs[@]}" 2>/dev/null || true
}
held_by() { [ -n "$(holders "$@")" ]; }      # STRING NAME...: some file holds it
held_by_none() { [ -z "$(holders "$@")" ]; } # STRING NAME...: no file holds it
# gone_from NAME... -- STRING...: none of the strings is in the data directory of any NAME.
gone_from() {
    local names=() s
    while [ "$1" != -- ]; do names+=("$1"); shift; done
    shift
    for s in "$@"; do held_by_none "$s" "${names[@]}" || return 1; done
}
# wait_gone WHAT NAME... -- STRING...: poll until gone_from, or fail naming the files left.
wait_gone() {
    local what=$1 names=() s left=
    shift
    while [ "$1" != -- ]; do names+=("$1"); shift; done
    shift
    try_wait_for gone_from "${names[@]}" -- "$@" --deadline 30 && return 0
    for s in "$@"; do left+=" $s: $(holders "$s" "${names[@]}" | sed "s|$T/||" | tr '\n' ' ')"; done
    fail "$what: personal data still on disk after 30 s:$left"
}
must_hold() { # WHAT STRING NAME...: each of NAME... has a file holding STRING
    local what=$1 s=$2 n
    shift 2
    for n in "$@"; do held_by "$s" "$n" || fail "$what: '$s' is not found in $n's data directory"; done
}
show() { cli "$1" member show "$2" --json; }
field_is() { [ "$(show "$1" "$2" | jq -r "$3")" = "$4" ]; } # NODE MEMBER FILTER VALUE
digests_meet() { # MEMBER NODE...: the nodes' digests of MEMBER equal the broker's
    local m=$1 n want
    shift
    want=$(broker_digest "$m") && [ -n "$want" ] || return 1
    for n in "$@"; do [ "$(member_digest "$n" "$m")" = "$want" ] || return 1; done
}
wait_digests() { # MEMBER NODE...
    try_wait_for digests_meet "$@" --deadline 20 && return 0
    local n s
    s="broker $(broker_digest "$1")"
    for n in "${@:2}"; do s+=", $n $(member_digest "$n" "$1")"; done
    fail "digests of $1 differ: $s"
}
stored_all() { # NAME: the broker stores every event NAME wrote
    wait_for json_is br "[.peers[] | select(.org == \"$(json_get "$1" .org)\")][0].stored_upto" \
        "$(own_seq "$1")" --deadline 60
}
set_retention() { # NAME DAYS: the node's [policy] former_member_days (the node is stopped)
    sed -i "s/^former_member_days = .*/former_member_days = $2/" "$T/$1/node.conf"
    grep -qx "former_member_days = $2" "$T/$1/node.conf" ||
        fail "could not set former_member_days in $1/node.conf"
}
# no_read_shows NODE STRING...: the node's lists, tasks and annual report name none of them.
no_read_shows() {
    local n=$1 what out s
    shift
    for what in "members --all" "tasks" "report --year ${TODAY%%-*}"; do
        # shellcheck disable=SC2086
        out=$(run_ok cli "$n" $what --json)
        for s in "$@"; do
            case "$out" in *"$s"*) fail "$n's $what still shows '$s'" ;; esac
        done
    done
}

log "u1 introduces $E and $K to c1, $R to c2; reports-in, $E's card and feedback, a visit"
run_ok cli u1 intro send --member $E --name $E_NAME --community community:c1 --contact $E_PHONE >/dev/null
run_ok cli u1 intro send --member $K --name $K_NAME --community community:c1 --contact $K_PHONE >/dev/null
run_ok cli u1 intro send --member $R --name $R_NAME --community community:c2 --contact $R_PHONE >/dev/null
sync_all u1 c1 c2
run_ok cli c1 report --member $E >/dev/null
run_ok cli c1 report --member $K >/dev/null
run_ok cli c1 card set --member $E --occupation $E_JOB --contact $E_PHONE >/dev/null
run_ok cli c1 feedback send --member $E --rating good --year 2026 --text $E_FEEDBACK >/dev/null
run_ok cli c2 report --member $R >/dev/null
sync_all u1 c1 c2
run_ok cli u1 visit record --member $E --text $E_VISIT >/dev/null
log "u1 releases $R: c2's registration closes (c2 keeps it: default former_member_days 90)"
run_ok cli u1 member release --member $R >/dev/null
sync_all "${NODES[@]}"
assert_eq released "$(show c2 $R | jq -r .closed)" "c2's record of $R"
E_EVENTS=$(show u1 $E | jq -r .events)
assert_eq 5 "$E_EVENTS" "events of $E on u1: intro, report-in, card, feedback, visit"
assert_eq "$(member_digest u1 $E)" "$(member_digest c1 $E)" "digest of $E: u1 vs c1"
assert_eq "$(member_digest u1 $E)" "$(broker_digest $E)" "digest of $E: u1 vs broker"
assert_eq kept "$(show c1 $E | jq -r .personal)" "c1 keeps $E's personal data"
for n in u1 c1; do
    assert_eq "$E_NAME $E_PHONE $E_PHONE $E_JOB" \
        "$(show $n $E | jq -r '"\(.name) \(.intro_contact) \(.contact) \(.occupation)"')" \
        "$n's record of $E before the erasure"
done

log "before the erasure the search finds every string on each side that holds it"
for s in "${E_STRINGS[@]:0:5}" "${K_STRINGS[@]}"; do must_hold "before the erasure" "$s" br u1 c1; done
for s in "${R_STRINGS[@]}"; do must_hold "before the erasure" "$s" br u1 c2; done
gone_from u2 c2 -- "${E_STRINGS[@]}" "${K_STRINGS[@]}" ||
    fail "u2 or c2 holds a personal string of a member that was never theirs"

log "u2 cannot erase $E: its CLI does not hold the member"
seq_u2=$(own_seq u2)
assert_exit 1 cli u2 member erase --member $E --reason request
assert_eq "$seq_u2" "$(own_seq u2)" "u2 wrote nothing"

log "u2 introduces $E (unknowingly: the broker is away) and erases it: the broker refuses both"
E_DIGEST=$(member_digest c1 $E)
refused_u2=$(json_get u2 .counters.refused)
stop br
run_ok cli u2 intro send --member $E --name 冒名顶替 --community community:c1 >/dev/null
run_ok cli u2 member erase --member $E --reason request >/dev/null
assert_eq $((seq_u2 + 2)) "$(own_seq u2)" "u2 wrote its introduction and its erasure"
start br
wait_ready "${NODES[@]}"
wait_for json_is u2 .unacked 0 --deadline 30
wait_for json_ge u2 .counters.refused $((refused_u2 + 1)) --deadline 20
sync_all u1 c1
assert_eq 0 "$(json_get br .counters.erasures)" "the broker took no erasure from another unit"
assert_eq "$E_DIGEST" "$(member_digest c1 $E)" "c1's record of $E after u2's erasure"
assert_eq "$E_DIGEST" "$(broker_digest $E)" "the broker's record of $E after u2's erasure"
assert_eq "$E_DIGEST" "$(member_digest u1 $E)" "u1's record of $E after u2's erasure"
assert_eq false "$(show c1 $E | jq -r .erased)" "c1's record is not erased"
assert_eq "$E_NAME" "$(show c1 $E | jq -r .name)" "c1 keeps $E's name"
assert_eq false "$(show u1 $E | jq -r .erased)" "u1's record is not erased"

log "u1 erases $E while c1's new card for $E is on its way (the broker is away)"
refused_u1=$(json_get u1 .counters.refused)
seq_u1=$(own_seq u1)
stop br
run_ok cli c1 card set --member $E --occupation $E_JOB2 >/dev/null
must_hold "c1's card in flight" "$E_JOB2" c1
run_ok cli u1 member erase --member $E --reason request --date 2026-12-01 >/dev/null
assert_eq $((seq_u1 + 1)) "$(own_seq u1)" "u1 wrote the erasure"
wait_for field_is u1 $E .erased true --deadline 5
start br
wait_ready "${NODES[@]}"
wait_for field_is c1 $E .erased true --deadline 30
wait_for json_ge br .counters.erasures 1 --deadline 30
sync_all "${NODES[@]}"
assert_eq "$refused_u1" "$(json_get u1 .counters.refused)" "the broker did not refuse u1's erasure"
wait_digests $E u1 c1
wait_gone "the erasure of $E" "${DIRS[@]}" -- "${E_STRINGS[@]}"
for s in "${K_STRINGS[@]}"; do must_hold "$K is not erased" "$s" br u1 c1; done
for n in u1 c1 br; do wait_for json_is "$n" .scrub_pending false --deadline 20; done

log "the erased record: empty personal fields, the reason, no more letters"
for n in u1 c1; do
    rec=$(run_ok show $n $E)
    assert_eq true "$(jq -r .erased <<<"$rec")" "$n: .erased"
    assert_eq erased "$(jq -r .personal <<<"$rec")" "$n: .personal"
    assert_eq request "$(jq -r .erased_reason <<<"$rec")" "$n: .erased_reason"
    assert_eq 2026-12-01 "$(jq -r .erased_date <<<"$rec")" "$n: .erased_date"
    assert_eq "" "$(jq -r .name <<<"$rec")" "$n: .name"
    assert_eq "" "$(jq -r .contact <<<"$rec")" "$n: .contact"
    assert_eq "" "$(jq -r .intro_contact <<<"$rec")" "$n: .intro_contact"
    assert_eq "" "$(jq -r .occupation <<<"$rec")" "$n: .occupation"
    for s in "${E_STRINGS[@]}"; do
        json_has_string "$rec" "$s" && fail "$n's record of $E still shows '$s': $rec"
    done
    # intro, report-in, card, feedback, visit, the card written before the erasure, the erasure
    assert_eq $((E_EVENTS + 2)) "$(jq -r .events <<<"$rec")" "$n: the count of letters"
    assert_eq community:c1 "$(jq -r .community <<<"$rec")" "$n: the ids stay"
    hist=$(run_ok cli "$n" member history $E --json)
    assert_eq 0 "$(jq '[.[] | select(.personal == "kept")] | length' <<<"$hist")" \
        "$n: letters about $E still keeping a personal part: $hist"
    for s in "${E_STRINGS[@]}"; do
        case "$hist" in *"$s"*) fail "$n's history of $E still shows '$s'" ;; esac
    done
    no_read_shows "$n" "${E_STRINGS[@]}"
done
assert_contains "$(run_ok cli u1 member show $E)" "个人信息已删除" "member show says the data is erased"
assert_eq "$K_NAME" "$(show u1 $K | jq -r .name)" "u1 keeps $K's name"
assert_eq "$K_NAME" "$(show c1 $K | jq -r .name)" "c1 keeps $K's name"
assert_eq "" "$(run_ok cli u1 members --name $E_NAME --json | jq -r '.[].member')" \
    "u1 finds nobody by $E's name"
seq_u1=$(own_seq u1)
seq_c1=$(own_seq c1)
assert_exit 1 cli u1 intro send --member $E --name $E_NAME --community community:c2
assert_exit 1 cli u1 intro send --member $E --name $E_NAME --community community:c1
assert_exit 1 cli u1 visit record --member $E --text 再次走访
assert_exit 1 cli u1 member move --member $E --community community:c2
assert_exit 1 cli u1 member erase --member $E --reason deceased
assert_exit 1 cli c1 card set --member $E --occupation 教师
assert_exit 1 cli c1 feedback send --member $E --rating good --year 2026 --text 再次反馈
assert_eq "$seq_u1" "$(own_seq u1)" "u1 wrote nothing about $E after the erasure"
assert_eq "$seq_c1" "$(own_seq c1)" "c1 wrote nothing about $E after the erasure"

log "c1 loses its store and is restored from the broker: nothing of $E comes back"
E_DIGEST=$(member_digest u1 $E)
stop c1
rm -rf "${T:?}/c1/db"
start c1
wait_for json_is c1 .state needs-restore --deadline 30
run_ok cli c1 restore >/dev/null
sync_all u1 c1
assert_eq true "$(show c1 $E | jq -r .erased)" "c1's restored record of $E is erased"
assert_eq "" "$(show c1 $E | jq -r .name)" "c1's restored record of $E has no name"
assert_eq "$E_DIGEST" "$(member_digest c1 $E)" "digest of $E on the restored c1"
assert_eq "$K_NAME" "$(show c1 $K | jq -r .name)" "the restored c1 has $K's name"
wait_gone "c1 restored after the erasure" c1 -- "${E_STRINGS[@]}"
must_hold "c1 restored" "$K_NAME" c1

log "the broker loses its database and is rebuilt from the nodes: nothing of $E comes back"
# u2 stays away until the others' logs are back: its own (refused) introduction of $E
# must not reach the new broker before u1's, as it did not the first time.
stop u2
kill9 br
rm -rf "${T:?}/br/db"
for card in u1/unit-u1 u2/unit-u2 c1/community-c1 c2/community-c2; do
    run_ok broker org add --card "$T/$card.card" >/dev/null
done
start br
for n in u1 c1 c2; do stored_all $n; done
start u2
stored_all u2
sync_all "${NODES[@]}"
assert_eq 0 "$(json_get br .counters.forks)" "no forks at the rebuilt broker"
assert_eq "$E_DIGEST" "$(broker_digest $E)" "digest of $E on the rebuilt broker"
wait_digests $E u1 c1
assert_eq "$(member_digest u1 $K)" "$(broker_digest $K)" "digest of $K: u1 vs the rebuilt broker"
wait_gone "the broker rebuilt after the erasure" "${DIRS[@]}" -- "${E_STRINGS[@]}"
must_hold "the rebuilt broker" "$K_NAME" br

log "retention: c2 kept the released $R so far; with former_member_days = 0 it drops it at start"
# The release was stored by c2 seconds and many ticks ago: the sweep after it has run.
for s in "${R_STRINGS[@]}"; do must_hold "c2 keeps $R for 90 days" "$s" c2; done
assert_eq kept "$(show c2 $R | jq -r .personal)" "c2's record of $R before the change"
stop c1
stop c2
set_retention c1 0
set_retention c2 0
start c1
start c2
wait_ready c1 c2
wait_gone "c2's retention of $R at its start" c2 -- "${R_STRINGS[@]}"
for s in "${R_STRINGS[@]}"; do must_hold "$R is only retired at c2" "$s" u1 br; done
rec=$(run_ok show c2 $R)
assert_eq retired "$(jq -r .personal <<<"$rec")" "c2's record of $R: .personal"
assert_eq "" "$(jq -r .name <<<"$rec")" "c2's record of $R: .name"
assert_eq released "$(jq -r .closed <<<"$rec")" "c2's record of $R: .closed"
assert_eq "$TODAY" "$(jq -r .closed_date <<<"$rec")" "c2's record of $R: .closed_date"
assert_eq "$R_NAME" "$(show u1 $R | jq -r .name)" "u1 keeps $R's name (a unit does not retire)"

log "retention: $K moves from c1 to c2; c1 drops $K's personal data right after the move-out"
K_EVENTS=$(show c1 $K | jq -r .events)
assert_eq 2 "$K_EVENTS" "events of $K on c1: intro, report-in"
run_ok cli u1 member move --member $K --community community:c2 --contact $K_PHONE >/dev/null
sync_all u1 c1 c2
run_ok cli c2 report --member $K >/dev/null
sync_all "${NODES[@]}"
wait_gone "c1's retention of $K" c1 -- "${K_STRINGS[@]}"
for s in "${K_STRINGS[@]}"; do must_hold "$K is only retired at c1" "$s" u1 c2 br; done
check_retired_k() { # the former community's record of K: ids, dates and counts only
    local rec
    rec=$(run_ok show c1 $K)
    assert_eq retired "$(jq -r .personal <<<"$rec")" "c1's record of $K: .personal"
    assert_eq false "$(jq -r .erased <<<"$rec")" "c1's record of $K is retired, not erased"
    assert_eq "" "$(jq -r .name <<<"$rec")" "c1's record of $K: .name"
    assert_eq "" "$(jq -r .contact <<<"$rec")" "c1's record of $K: .contact"
    assert_eq moved "$(jq -r .closed <<<"$rec")" "c1's record of $K: .closed"
    assert_eq "$TODAY" "$(jq -r .closed_date <<<"$rec")" "c1's record of $K keeps the close date"
    assert_eq $((K_EVENTS + 1)) "$(jq -r .events <<<"$rec")" "c1's record of $K: count (+ move-out)"
    assert_eq unit:u1 "$(jq -r .unit <<<"$rec")" "c1's record of $K keeps the unit"
    assert_eq 0 "$(run_ok cli c1 member history $K --json | jq '[.[] | select(.personal == "kept")] | length')" \
        "c1's letters about $K keeping a personal part"
}
check_retired_k
for n in u1 c2; do
    assert_eq "$K_NAME" "$(show $n $K | jq -r .name)" "$n keeps $K's name"
    assert_eq kept "$(show $n $K | jq -r .personal)" "$n keeps $K's personal data"
done
wait_digests $K u1 c2

log "c1 restored from the broker after the retention: it drops $K again"
stop c1
rm -rf "${T:?}/c1/db"
start c1
wait_for json_is c1 .state needs-restore --deadline 30
run_ok cli c1 restore >/dev/null
sync_all u1 c1
wait_gone "c1 restored after the retention of $K" c1 -- "${K_STRINGS[@]}" "${E_STRINGS[@]}"
check_retired_k

log "u1 erases $K while c2, its new community, is away; the former community c1 gets it too"
log "(u1 and the broker are killed right after they take the erasure: the scrub is redone at start)"
stop c2
erasures=$(json_get br .counters.erasures)
run_ok cli u1 member erase --member $K --reason left-party >/dev/null
kill9 u1
start u1
wait_for json_ge br .counters.erasures $((erasures + 1)) --deadline 30
kill9 br
start br
wait_ready u1 u2 c1
for n in u1 c1; do wait_for field_is $n $K .erased true --deadline 30; done
assert_eq erased "$(show c1 $K | jq -r .personal)" "c1 (former): .personal"
wait_gone "the erasure of $K, c2 away" br u1 c1 -- "${K_STRINGS[@]}"
must_hold "c2 has not heard of the erasure yet" "$K_NAME" c2
start c2
wait_for field_is c2 $K .erased true --deadline 30
sync_all "${NODES[@]}"
assert_eq left-party "$(show c2 $K | jq -r .erased_reason)" "c2: .erased_reason"
wait_digests $K u1 c2
wait_gone "the erasure of $K" "${DIRS[@]}" -- "${K_STRINGS[@]}" "${E_STRINGS[@]}"
for s in "${R_STRINGS[@]}"; do must_hold "$R is not erased" "$s" u1 br; done
assert_eq "$E_DIGEST" "$(member_digest u1 $E)" "$E's record is unchanged"
wait_digests $E u1 c1

for n in c2 c1 u2 u1 br; do stop "$n"; done
log "ok"
