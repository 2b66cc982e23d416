#!/usr/bin/env bash
# A hostile node with valid keys (unit:evil, in the directory) sends what a correct node
# never would, while unit:u1 and community:c1 keep syncing:
#   forged origin (publishing under unit:u1's id), a bad signature, a wrong-side event,
#   garbage, truncated, multipart and oversize frames.
# Each is refused with the right ERROR and counted by the broker; nothing of it is stored;
# the broker keeps running and the honest nodes keep syncing. A bad signature after a
# session's first letter is stored and acked, found by the broker's audit, which blocks
# the org, and refused by the recipient itself. Also: an event type this
# version does not know (from a "newer" node) is stored and forwarded, and the member
# digest still agrees on every side. unit:evil stays under the broker's strike limit here
# (23 refused frames of 32); what happens beyond it, and the per-peer budgets, are in
# test_trust.sh.
. "$(dirname "$0")/lib.sh" "$@"
RAWPEER=$DS_BINDIR/tests/tools/ds-rawpeer
[ -x "$RAWPEER" ] || fail "tool not built: $RAWPEER"
rawpeer() { "$RAWPEER" "$T/$1" "${@:2}"; }

DS_WEB=1 # the broker's street console shows a blocked org
init_street 1 1
printf 'street-pass-1\n' >"$T/pw-street"
run_ok broker user add street --role operator --password-file "$T/pw-street" >/dev/null
init_node evil unit:evil 恶意单位 add
init_node future unit:future 新版本单位 add
start br
start u1
start c1
wait_ready u1 c1
run_ok cli u1 intro send --member M001 --name 张三 --community community:c1 >/dev/null
sync_wait u1
sync_wait c1
u1_stored=$(broker_peer .stored_upto unit:u1)

log "forged origin: unit:evil publishes an event claiming to be unit:u1"
out=$(rawpeer evil foreign-origin unit:u1)
assert_eq 1 "$(jq '.errors.ERROR_AUTH // 0' <<<"$out")" "ERROR_AUTH for a forged origin ($out)"
assert_eq 1 "$(json_get br .counters.org_mismatch)" "org_mismatch counter"
assert_eq "$u1_stored" "$(broker_peer .stored_upto unit:u1)" "unit:u1's log untouched"

log "bad signature and wrong side"
out=$(rawpeer evil bad-sig)
assert_eq 1 "$(jq '.errors.ERROR_AUTH // 0' <<<"$out")" "ERROR_AUTH for a bad signature ($out)"
out=$(rawpeer evil wrong-side)
assert_eq 1 "$(jq '.errors.ERROR_SIDE // 0' <<<"$out")" "ERROR_SIDE for a unit's report-in ($out)"
assert_eq 3 "$(json_get br .counters.rejected)" "rejected counter (forged, bad sig, wrong side)"
assert_eq 0 "$(broker_peer .stored_upto unit:evil)" "nothing stored for unit:evil"

log "garbage, truncated, multipart and oversize frames"
out=$(rawpeer evil garbage 10 --seed 7)
assert_eq 10 "$(jq '.errors.ERROR_MALFORMED // 0' <<<"$out")" "every garbage frame answered ($out)"
out=$(rawpeer evil truncated 10 --seed 7)
assert_eq 10 "$(jq '.errors.ERROR_MALFORMED // 0' <<<"$out")" "every truncated frame answered ($out)"
rawpeer evil multipart 20 >/dev/null
rawpeer evil oversize >/dev/null
wait_for json_ge br .counters.dropped_frames 20 --deadline 10
assert_ge "$(json_get br .counters.malformed)" 20 "malformed counter"
assert_eq 0 "$(json_get br .counters.peers_banned)" "unit:evil is still under the strike limit"
alive br || fail "the broker died"
assert_eq 0 "$(broker_peer .stored_upto unit:evil)" "still nothing stored for unit:evil"

log "the honest nodes keep syncing"
run_ok cli c1 report --member M001 --date 2026-11-20 >/dev/null
sync_wait c1
sync_wait u1
assert_eq true "$(cli u1 member show M001 --json | jq -r .reported)" "report-in reached the unit"
assert_eq "$(member_digest u1 M001)" "$(member_digest c1 M001)" "digest unit vs community"
assert_eq "$(member_digest c1 M001)" "$(broker_digest M001)" "digest community vs broker"

log "an unknown event type from a newer node is stored and forwarded"
out=$(rawpeer future intro M900,community:c1)
assert_eq 1 "$(jq .acks <<<"$out")" "introduction from unit:future acked ($out)"
out=$(rawpeer future unknown-type M900)
assert_eq '{}' "$(jq -c .errors <<<"$out")" "unknown type accepted ($out)"
sync_wait c1
assert_eq 2 "$(cli c1 member show M900 --json | jq .events)" "community holds both events"
assert_eq "$(member_digest c1 M900)" "$(broker_digest M900)" "digest community vs broker (M900)"

log "200 events of an unknown type at the broker's size limit for them (8 KiB), while the"
log "community is away: its catch-up comes in frames within the frame budget"
stop c1
out=$(rawpeer future bulk-unknown M900)
assert_eq '{}' "$(jq -c .errors <<<"$out")" "bulk accepted ($out)"
start c1
sync_wait c1 60
assert_eq 202 "$(cli c1 member show M900 --json | jq .events)" "community holds all 202 events"
assert_eq "$(member_digest c1 M900)" "$(broker_digest M900)" "digest after the bulk (M900)"

log "a frame of 40 events with a bad signature at the 25th: the session's first new event"
log "is checked before the ACK, the rest by the broker's audit behind it (sigaudit.c)"
future_stored=$(broker_peer .stored_upto unit:future)
c1_rejected=$(json_get c1 .counters.rejected_signature)
rawpeer future sig-batch M900 >/dev/null
# rawpeer stops reading soon after its ACK: the audit's verdict comes after it left
wait_for json_is br '.peers[] | select(.org == "unit:future") | .stored_upto' \
    $((future_stored + 40)) --deadline 30
wait_for json_ge br .counters.signature_failed 1 --deadline 30
assert_eq $((future_stored + 25)) "$(json_get br '.signature_audit.blocked["unit:future"]')" \
    "unit:future blocked at its 25th event"
broker status | grep -qE "(blocked|已阻断) unit:future" || fail "human status names the blocked org"
S=http://127.0.0.1:${WEBPORT[br]}
assert_eq 303 "$(login "$T/jb" "$S" street street-pass-1)" "the street office logs in"
assert_eq 200 "$(http "$T/jb" GET "$S/")" "the street page"
body_has 'data-blocked="unit:future"' || fail "the street page does not show unit:future blocked"
body_has 'data-counter="signature_failed"' || fail "the street page lacks signature_failed"
sync_wait c1
assert_eq 241 "$(cli c1 member show M900 --json | jq .events)" "community holds the 39 good ones"
assert_eq $((c1_rejected + 1)) "$(json_get c1 .counters.rejected_signature)" \
    "community refused the bad one itself"
out=$(rawpeer future unknown-type M900)
assert_eq 1 "$(jq '.errors.ERROR_AUTH // 0' <<<"$out")" "a blocked org's next letter refused ($out)"
assert_eq $((future_stored + 40)) "$(broker_peer .stored_upto unit:future)" "nothing more stored"
assert_ge "$(json_get br .counters.signature_blocked)" 1 "signature_blocked counted"

log "ok"
