#!/usr/bin/env bash
# Who may erase a member, and retention after a return (docs/ARCHITECTURE.md "Retention and
# erasure"; broker/routing.c route_erase and common/fold.c apply_erase hold one rule: the
# registration's unit, open or closed by a move or a return, not after it released the
# member and not while another unit's claim waits for the community's report-in). The
# checks are an auditor's, as in test_erase.sh: a byte search of every data directory.
#  - claim: u1 introduced MA and MB first, u2 introduced them too (claims waiting at c1).
#    u1's erasure of MB, written while u1 knew nothing of the claim, is refused by the
#    broker; once u1's node was told of the claim on MA, its CLI refuses to erase MA. After
#    c1 reports in with u2's letters nothing was dropped anywhere and the records are u2's;
#  - release: after u1 released MR, u1's CLI refuses to erase it (released), and so does
#    u2's, whose introduction the broker refused; nothing is dropped, equal digests;
#  - reopen: c3 (former_member_days = 0) retires MO when it moves to c2, keeps the new
#    registration when MO comes back, retires it again when MO leaves again, also after a
#    restart of c3;
#  - transfer: u1 released MT, u2 introduced it to c2; u2's erasure reaches the former sides
#    u1 and c1 too: their records say personal "erased" (not erased: that was u2's record),
#    and no data directory holds MT's strings.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 3
NODES=(u1 u2 c1 c2 c3)
DIRS=(br u1 u2 c1 c2 c3)

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
field() { show "$1" "$2" | jq -r "$3"; }                       # NODE MEMBER FILTER
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }           # NODE MEMBER FILTER VALUE
field_set() { [ -n "$(field "$1" "$2" "$3 // empty")" ]; }     # NODE MEMBER FILTER
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
# refuse_erase NODE MEMBER REASON_TEXT: the node's CLI refuses the erasure (exit 1) saying
# REASON_TEXT, and the node writes nothing.
refuse_erase() {
    local seq
    seq=$(own_seq "$1")
    assert_exit 1 cli "$1" member erase --member "$2" --reason request
    assert_contains "$OUT" "$3" "$1's refusal to erase $2"
    assert_eq "$seq" "$(own_seq "$1")" "$1 wrote nothing for the refused erasure of $2"
}
erasures() { json_get br .counters.erasures; }

sed -i "s/^former_member_days = .*/former_member_days = 0/" "$T/c3/node.conf"
grep -qx "former_member_days = 0" "$T/c3/node.conf" || fail "could not set c3's former_member_days"
for n in "${DIRS[@]}"; do start "$n"; done
wait_ready "${NODES[@]}"

MA=RL-0001 MA_SQ=抢先甲甲 MA_NAME=真名子丑 MA_PHONE=13811112201 MA_VISIT=真单位走访寅
MB=RL-0002 MB_SQ=抢先乙乙 MB_NAME=真名卯辰 MB_PHONE=13811112202 MB_VISIT=真单位走访巳
MR=RL-0003 MR_NAME=转出午未 MR_PHONE=13833334403 MR_JOB=转出职业申
MO=RL-0004 MO_NAME=回迁酉戌 MO_PHONE=13955556604 MO_JOB=回迁职业亥
MT=RL-0005 MT_NAME=调动者甲乙 MT_PHONE=13911110005
MA_STRINGS=("$MA_NAME" "$MA_PHONE" "$MA_VISIT")
MB_STRINGS=("$MB_NAME" "$MB_PHONE" "$MB_VISIT")
MR_STRINGS=("$MR_NAME" "$MR_PHONE" "$MR_JOB")
MO_STRINGS=("$MO_NAME" "$MO_PHONE" "$MO_JOB")
MT_STRINGS=("$MT_NAME" "$MT_PHONE")

# ------------------------------------------------------------------------------ claim
log "claim: u1 introduces $MA and $MB first; u2 (u1 away) introduces them too, with visits"
run_ok cli u1 intro send --member $MA --name $MA_SQ --community community:c1 >/dev/null
run_ok cli u1 intro send --member $MB --name $MB_SQ --community community:c1 >/dev/null
sync_all u1 c1
stop u1 # no claim exists yet: u1 cannot have been told of one
MA_INTRO=$(write1 u2 intro send --member $MA --name $MA_NAME --community community:c1 --contact $MA_PHONE)
MB_INTRO=$(write1 u2 intro send --member $MB --name $MB_NAME --community community:c1 --contact $MB_PHONE)
run_ok cli u2 visit record --member $MA --text $MA_VISIT >/dev/null
run_ok cli u2 visit record --member $MB --text $MB_VISIT >/dev/null
sync_all u2 c1
for m in $MA $MB; do
    assert_eq unit:u2 "$(field c1 "$m" '[.claims[]?.unit] | join(",")')" "c1's claims on $m"
    assert_eq unit:u1 "$(field c1 "$m" .unit)" "c1's record of $m before the report-in"
done
assert_eq 2 "$(broker claims --json |
    jq --arg a $MA --arg b $MB '[.. | strings | select(. == $a or . == $b)] | unique | length')" \
    "the broker lists the claims on $MA and $MB"
erasures0=$(erasures)

log "claim: u1 (back, the broker away: not told of the claim) erases $MB; the broker refuses it"
stop br
start u1
assert_eq "" "$(field u1 $MB .claimed)" "u1 was not told of the claim on $MB"
seq_u1=$(own_seq u1)
refused_u1=$(json_get u1 .counters.refused)
run_ok cli u1 member erase --member $MB --reason request >/dev/null
assert_eq $((seq_u1 + 1)) "$(own_seq u1)" "u1 wrote its erasure of $MB"
start br
wait_ready "${NODES[@]}"
wait_for json_is u1 .unacked 0 --deadline 30
wait_for json_ge u1 .counters.refused $((refused_u1 + 1)) --deadline 20
grep -q "not delivered: unit:u1/$((seq_u1 + 1)) member=$MB: another unit claims the member" "$T/br.log" ||
    fail "the broker's log does not say why u1's erasure of $MB was refused"
sync_all u2 c1
assert_eq "$erasures0" "$(erasures)" "the broker took no erasure while the claim waits"
for m in $MB $MA; do
    assert_eq false "$(field c1 "$m" .erased)" "c1's record of $m is not erased"
    assert_eq kept "$(field c1 "$m" .personal)" "c1 keeps $m's personal data"
done

log "claim: once u1's node was told of the claim on $MA, its CLI refuses to erase $MA"
wait_for field_set u1 $MA .claimed --deadline 25
refuse_erase u1 $MA "须待社区报到确认后才能删除"

log "claim: c1 reports in with u2's letters: the members are u2's and nothing was dropped"
run_ok cli c1 report --member $MA --intro "$MA_INTRO" >/dev/null
run_ok cli c1 report --member $MB --intro "$MB_INTRO" >/dev/null
sync_all u1 u2 c1
for m in $MA $MB; do
    for n in c1 u2; do
        rec=$(run_ok show $n "$m")
        assert_eq "unit:u2 true false kept" \
            "$(jq -r '"\(.unit) \(.reported) \(.erased) \(.personal)"' <<<"$rec")" \
            "$n's record of $m after the report-in (unit reported erased personal)"
    done
    wait_digests "$m" u2 c1
done
assert_eq "$MA_NAME $MA_PHONE" "$(field c1 $MA '"\(.name) \(.intro_contact)"')" "c1's record of $MA"
assert_eq "$MB_NAME $MB_PHONE" "$(field c1 $MB '"\(.name) \(.intro_contact)"')" "c1's record of $MB"
for s in "${MA_STRINGS[@]}" "${MB_STRINGS[@]}"; do must_hold "claim, after the report-in" "$s" u2 c1 br; done
must_hold "u1 wrote nothing about $MA" "$MA_SQ" u1
assert_eq "$erasures0" "$(erasures)" "the broker took no erasure in the claim"

# ------------------------------------------------------------------------------ release
log "release: u1 introduces $MR to c1 (report-in, card); u2's introduction is refused; u1 releases"
run_ok cli u1 intro send --member $MR --name $MR_NAME --community community:c1 --contact $MR_PHONE >/dev/null
sync_all u1 c1
run_ok cli c1 report --member $MR >/dev/null
run_ok cli c1 card set --member $MR --occupation $MR_JOB >/dev/null
sync_all u1 c1
run_ok cli u2 intro send --member $MR --name 冒名未申 --community community:c1 >/dev/null
wait_for field_set u2 $MR .refused --deadline 20
run_ok cli u1 member release --member $MR >/dev/null
sync_all u1 u2 c1
assert_eq released "$(field u1 $MR .closed)" "u1's record of $MR"
erasures0=$(erasures)
log "release: neither u1 (released) nor u2 (introduction refused) may erase $MR"
refuse_erase u1 $MR "已转出本单位"
refuse_erase u2 $MR "拒绝了本单位对该成员的介绍函"
sync_all u1 u2 c1
for n in u1 c1; do
    rec=$(run_ok show $n $MR)
    assert_eq "false kept released $MR_NAME $MR_PHONE $MR_JOB" \
        "$(jq -r '"\(.erased) \(.personal) \(.closed) \(.name) \(.intro_contact) \(.occupation)"' <<<"$rec")" \
        "$n's record of $MR after the refused erasures"
done
for s in "${MR_STRINGS[@]}"; do must_hold "release: nothing dropped" "$s" u1 c1 br; done
wait_digests $MR u1 c1
assert_eq "$erasures0" "$(erasures)" "the broker took no erasure after the release"

# ------------------------------------------------------------------------------ reopen
log "reopen: $MO registered at c3 (former_member_days = 0) moves to c2: c3 retires it"
run_ok cli u1 intro send --member $MO --name $MO_NAME --community community:c3 --contact $MO_PHONE >/dev/null
sync_all u1 c3
run_ok cli c3 report --member $MO >/dev/null
sync_all u1 c3
must_hold "reopen, registered at c3" "$MO_NAME" c3
run_ok cli u1 member move --member $MO --community community:c2 --contact $MO_PHONE >/dev/null
sync_all u1 c2 c3
wait_for field_is c3 $MO .personal retired --deadline 20
wait_gone "c3's retention of $MO after the first move" c3 -- "$MO_NAME" "$MO_PHONE"
assert_eq "moved" "$(field c3 $MO '"\(.name)\(.closed)"')" "c3's retired record of $MO (name, closed)"

log "reopen: $MO moves back to c3 (report-in, a new card): c3 keeps the new registration"
run_ok cli u1 member move --member $MO --community community:c3 --contact $MO_PHONE >/dev/null
sync_all u1 c2 c3
run_ok cli c3 report --member $MO >/dev/null
run_ok cli c3 card set --member $MO --occupation $MO_JOB >/dev/null
sync_all u1 c2 c3
rec=$(run_ok show c3 $MO)
assert_eq "kept true $MO_NAME $MO_JOB" \
    "$(jq -r '"\(.personal) \(.open) \(.name) \(.occupation)"' <<<"$rec")" \
    "c3's record of $MO after the return (personal open name occupation)"
for s in "$MO_NAME" "$MO_JOB"; do must_hold "c3 keeps the new registration of $MO" "$s" c3; done

log "reopen: $MO moves away again: c3 retires it again, also after a restart"
run_ok cli u1 member move --member $MO --community community:c2 --contact $MO_PHONE >/dev/null
sync_all u1 c2 c3
wait_for field_is c3 $MO .personal retired --deadline 20
wait_gone "c3's retention of $MO after it left again" c3 -- "${MO_STRINGS[@]}"
check_retired_mo() {
    local rec
    rec=$(run_ok show c3 $MO)
    assert_eq "retired false false moved" \
        "$(jq -r '"\(.personal) \(.erased) \(.open) \(.closed)"' <<<"$rec")" \
        "c3's record of $MO (personal erased open closed)"
    assert_eq "" "$(jq -r '.name + .occupation + .contact + .intro_contact' <<<"$rec")" \
        "c3's record of $MO keeps no personal field"
}
check_retired_mo
stop c3
start c3
wait_ready c3
check_retired_mo
gone_from c3 -- "${MO_STRINGS[@]}" || fail "c3 holds $MO's strings again after its restart"
for s in "$MO_NAME" "$MO_PHONE"; do must_hold "$MO is only retired at c3" "$s" u1 c2 br; done
must_hold "c3's card of $MO is only retired at c3" "$MO_JOB" u1 br
wait_digests $MO u1 c2

# ------------------------------------------------------------------------------ transfer
log "transfer: u1 introduces $MT to c1 and releases it; u2 introduces it to c2"
run_ok cli u1 intro send --member $MT --name $MT_NAME --community community:c1 --contact $MT_PHONE >/dev/null
sync_all u1 c1
run_ok cli c1 report --member $MT >/dev/null
sync_all u1 c1
run_ok cli u1 member release --member $MT >/dev/null
sync_all u1 c1
run_ok cli u2 intro send --member $MT --name $MT_NAME --community community:c2 --contact $MT_PHONE >/dev/null
sync_all u2 c2
run_ok cli c2 report --member $MT >/dev/null
sync_all u1 u2 c1 c2
assert_eq "unit:u2 true" "$(field c2 $MT '"\(.unit) \(.reported)"')" "c2's record of $MT"
for s in "${MT_STRINGS[@]}"; do must_hold "transfer, before the erasure" "$s" u1 c1 u2 c2 br; done
erasures0=$(erasures)

log "transfer: u2 erases $MT; the former sides u1 and c1 drop its personal data too"
run_ok cli u2 member erase --member $MT --reason deceased >/dev/null
wait_for json_ge br .counters.erasures $((erasures0 + 1)) --deadline 30
for n in u2 c2; do wait_for field_is $n $MT .erased true --deadline 30; done
for n in u1 c1; do wait_for field_is $n $MT .personal erased --deadline 30; done
sync_all "${NODES[@]}"
for n in u2 c2; do
    rec=$(run_ok show $n $MT)
    assert_eq "true erased deceased unit:u2 community:c2" \
        "$(jq -r '"\(.erased) \(.personal) \(.erased_reason) \(.unit) \(.community)"' <<<"$rec")" \
        "$n's record of $MT (erased personal erased_reason unit community)"
done
for n in u1 c1; do
    rec=$(run_ok show $n $MT)
    assert_eq "false erased released unit:u1 community:c1" \
        "$(jq -r '"\(.erased) \(.personal) \(.closed) \(.unit) \(.community)"' <<<"$rec")" \
        "$n's (former) record of $MT (erased personal closed unit community)"
    assert_eq "" "$(jq -r '.name + .contact + .intro_contact' <<<"$rec")" \
        "$n's (former) record of $MT keeps no personal field"
done
wait_digests $MT u2 c2
wait_gone "the erasure of $MT by its later unit" "${DIRS[@]}" -- "${MT_STRINGS[@]}"
out=$(run_ok cli u1 member show $MT)
grep -qF 个人信息已删除 <<<"$out" || fail "u1's member show of $MT says nothing of the erasure: $out"
case "$out" in *"()"* | *"（）"*) fail "u1's member show of $MT prints an empty (): $out" ;; esac
for s in "${MR_STRINGS[@]}"; do must_hold "$MR is not erased" "$s" u1 c1 br; done
for s in "${MA_STRINGS[@]}"; do must_hold "$MA is not erased" "$s" u2 c1 br; done

for n in c3 c2 c1 u2 u1 br; do stop "$n"; done
log "ok"
