#!/usr/bin/env bash
# Signatures are checked end to end, not only by the broker.
#  (1) The real broker refuses a resend with other bytes: unit:u1's own keys publish
#      unit:u1/1 again with another contact number and a valid signature. The broker answers
#      ERROR_FORK about seq 1, counts it (counters.forks), and stores and forwards nothing:
#      unit:u1's stored_upto, community:c1's inbox head and the member digests on the broker
#      and on the community stay as they were.
#  (2) A broker that lies (tests/tools/ds-roguebroker: the street's keys, taken from the
#      stopped real broker, on its endpoint) delivers to the real community:c1, one DELIVER
#      each: unit:u1's introduction of M002 with one body byte changed after signing; the
#      same letter signed with unit:u2's key; the same letter claiming origin unit:ghost (not
#      in the directory); a fork of unit:u1/1 (other bytes, signed with unit:u1's real key);
#      an exact resend of unit:u1/1; then unit:u1's three genuine letters about M002 (written
#      while the street was down), newest first, so that they arrive out of seq and hlc
#      order. The node refuses the three bad signatures (rejected and rejected_signature +3)
#      and the fork (forks +1), counts the resend (duplicates +1), applies the genuine
#      three (applied +3), and logs each refusal by origin and seq. What node.c does with a
#      refused event today is skip and count: its inbox cursor moves past it and it
#      confirms it like any other, so the inbox never wedges on a bad event. M001's record
#      is unchanged, M002's record holds the genuine contact, and M002's digest on the
#      community (folded from letters that came newest first) equals the unit's (folded in
#      the order it wrote them).
. "$(dirname "$0")/lib.sh" "$@"
ROGUE=$DS_BINDIR/tests/tools/ds-roguebroker
[ -x "$ROGUE" ] || fail "tool not built: $ROGUE"

# rogue ARGS...: the tool, with its stderr in rogue.log; fails the test if it fails.
rogue() {
    local out rc=0
    echo "=== ds-roguebroker $1 $(date +%T.%N) ===" >>"$T/rogue.log"
    out=$("$ROGUE" "$@" 2>>"$T/rogue.log") || rc=$?
    [ "$rc" -eq 0 ] || fail "ds-roguebroker $1 exited $rc: $out"
    printf '%s\n' "$out"
}
counter() { jq -r ".counters.$2" <<<"$1"; } # STATUS_JSON NAME

init_street 2 1 # unit:u2 never runs: only its keys are used, as the wrong signer
start br
start u1
start c1
wait_ready u1 c1
run_ok cli u1 intro send --member M001 --name 张三 --community community:c1 \
    --contact 13800000001 >/dev/null
sync_wait u1
sync_wait c1
run_ok cli c1 report --member M001 --date 2026-11-20 >/dev/null
sync_all c1 u1
digest_m001=$(member_digest c1 M001)
assert_eq "$digest_m001" "$(member_digest u1 M001)" "M001 unit vs community"
assert_eq "$digest_m001" "$(broker_digest M001)" "M001 community vs broker"
intro_m001=unit:u1/$(own_seq u1)

# ---------------------------------------------------------------- (1) the real broker
log "(1) unit:u1 publishes $intro_m001 again with other bytes, validly signed"
stop u1 # the tool reads its log and takes its place at the broker
forks0=$(json_get br .counters.forks)
u1_stored=$(broker_peer .stored_upto unit:u1)
c1_head=$(broker_peer .inbox_head community:c1)
out=$(rogue publish --as "$T/u1" --log "$T/u1" \
    "fork $intro_m001 13800000001 13800000666 $T/u1")
assert_eq true "$(jq .complete <<<"$out")" "every PUBLISH answered ($out)"
assert_eq '{"ERROR_FORK":1}' "$(jq -c .errors <<<"$out")" "the broker's answer ($out)"
assert_eq "[${intro_m001#*/}]" "$(jq -c .error_seqs <<<"$out")" "ERROR_FORK names the seq"
assert_eq $((forks0 + 1)) "$(json_get br .counters.forks)" "broker counters.forks"
assert_eq "$u1_stored" "$(broker_peer .stored_upto unit:u1)" "broker stored_upto of unit:u1"
assert_eq "$c1_head" "$(broker_peer .inbox_head community:c1)" "broker inbox head of c1"
assert_eq "$digest_m001" "$(broker_digest M001)" "M001 on the broker after the fork"
sync_wait c1
assert_eq "$digest_m001" "$(member_digest c1 M001)" "M001 on the community after the fork"
assert_eq 13800000001 "$(cli c1 member show M001 --json | jq -r .intro_contact)" "M001's contact"

# ---------------------------------------------------------------- (2) a lying broker
log "(2) unit:u1 writes three letters about M002 while the street is down"
stop br
start u1
seq0=$(own_seq u1)
run_ok cli u1 intro send --member M002 --name 李四 --community community:c1 \
    --contact 13800000002 >/dev/null
run_ok cli u1 visit record --member M002 --text visit-1 --date 2026-11-21 >/dev/null
run_ok cli u1 difficulty raise --member M002 --text help-1 --date 2026-11-22 >/dev/null
assert_eq $((seq0 + 3)) "$(own_seq u1)" "unit:u1's own_seq after three letters"
digest_m002=$(member_digest u1 M002)
stop u1
intro=unit:u1/$((seq0 + 1)) visit=unit:u1/$((seq0 + 2)) difficulty=unit:u1/$((seq0 + 3))

before=$(cli c1 status --json)
cursor0=$(jq -r .inbox_cursor <<<"$before")
members0=$(member_count c1)

log "    the rogue broker delivers forged letters, then the genuine ones newest first"
out=$(rogue deliver --street "$T/br" --to "$T/c1" --log "$T/u1" --deadline 40 \
    "tamper $intro 13800000002 13800000009" \
    "resign $intro $T/u2" \
    "origin $intro unit:ghost $T/u2" \
    "fork $intro_m001 13800000001 13800000666 $T/u1" \
    "copy $intro_m001" \
    "copy $difficulty" \
    "copy $intro" \
    "copy $visit")
log "    $(jq -c '{hellos, first, last, confirmed, complete}' <<<"$out")"
assert_eq true "$(jq .complete <<<"$out")" "the node confirmed every delivery ($out)"
assert_eq $((cursor0 + 1)) "$(jq .first <<<"$out")" "first delivery right after the cursor"
assert_eq $((cursor0 + 8)) "$(jq .confirmed <<<"$out")" "highest CONFIRM: past every event"

after=$(cli c1 status --json)
assert_eq $((cursor0 + 8)) "$(jq -r .inbox_cursor <<<"$after")" "c1's inbox cursor"
for c in rejected:3 rejected_signature:3 rejected_side:0 forks:1 duplicates:1 applied:3; do
    name=${c%:*}
    assert_eq $(($(counter "$before" "$name") + ${c#*:})) "$(counter "$after" "$name")" \
        "c1 counters.$name"
done
assert_eq "$digest_m001" "$(member_digest c1 M001)" "M001 on c1 after the rogue broker"
assert_eq 13800000001 "$(cli c1 member show M001 --json | jq -r .intro_contact)" "M001's contact"
assert_eq $((members0 + 1)) "$(member_count c1)" "c1's members (M002 added)"
m002=$(cli c1 member show M002 --json)
assert_eq 13800000002 "$(jq -r .intro_contact <<<"$m002")" "M002's contact (not the tampered one)"
assert_eq 3 "$(jq -r .events <<<"$m002")" "M002's events on c1"
assert_eq "$digest_m002" "$(member_digest c1 M002)" \
    "M002 folded from letters delivered newest first, vs the unit's fold in seq order"

log "    the community's log names each refusal"
log_lines() { grep -c "$1" "$T/c1.log" || true; }
assert_eq 2 "$(log_lines "delivered event rejected origin=unit:u1 seq=${intro#*/} rc=EAUTH")" \
    "log lines refusing $intro (tampered, wrong key)"
assert_eq 1 "$(log_lines "delivered event rejected origin=unit:ghost seq=${intro#*/} rc=EAUTH")" \
    "log lines refusing unit:ghost/${intro#*/}"
assert_eq 1 "$(log_lines "FORK origin=unit:u1 seq=${intro_m001#*/} ")" "log lines refusing the fork"
alive c1 || fail "community:c1 died"
log "ok"
