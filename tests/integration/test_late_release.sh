#!/usr/bin/env bash
# Routing in hlc order (docs/ARCHITECTURE.md, broker/routing.c "a late release"): u1 wrote
# the release of member M while the broker was away and went offline; u2 then introduced
# M to c2 and wrote about M. The broker refused u2's letters (M was still u1's). When
# u1 comes back and its older release arrives, u2's introduction is routed again in hlc
# order: c2 gets it, c2's report-in reaches u2, which may then write about M again (its
# node refused to while the broker's refusal stood), and the record of M is the same on
# u2, c2 and the broker. The same happens after a broker
# rebuild, when the nodes' logs come back org after org in any order.
. "$(dirname "$0")/lib.sh" "$@"
M=DY-0001

init_street 2 2
start br
for n in u1 u2 c1 c2; do start $n; done
wait_ready u1 u2 c1 c2
run_ok cli u1 intro send --member $M --name 张建国 --community community:c1 >/dev/null
sync_wait u1
sync_wait c1
run_ok cli c1 report --member $M >/dev/null
sync_wait c1
sync_wait u1

log "u1 releases $M while the street's broker is away, then goes offline"
stop br
run_ok cli u1 member release --member $M --text 调离 >/dev/null
stop u1
start br
wait_ready u2 c2

log "u2 introduces $M to c2: refused, $M is still u1's at the broker"
run_ok cli u2 intro send --member $M --name 张建国 --community community:c2 >/dev/null
wait_for json_ge u2 .counters.refused 1 --deadline 30
rc=0
cli u2 visit record --member $M --text 走访 >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "u2's node refuses letters about $M while the street refused its introduction"
assert_eq 0 "$(member_count c2)" "c2 has nothing of $M while u1's release has not come"

log "u1 comes back: its release is older than u2's introduction, which reaches c2"
start u1
sync_wait u1
sync_wait u2
sync_wait c2
assert_eq 1 "$(member_count c2)" "c2 holds $M"
assert_eq unit:u2 "$(cli c2 member show $M --json | jq -r .unit)" "c2's record: u2's member"
assert_eq 1 "$(json_get br .counters.rerouted)" "the broker routed u2's introduction again"
run_ok cli c2 report --member $M >/dev/null
sync_wait c2
sync_wait u2
assert_eq true "$(cli u2 member show $M --json | jq -r .reported)" \
    "c2's report-in reached u2"
run_ok cli u2 visit record --member $M --text 走访 >/dev/null
sync_wait u2
sync_wait c2
assert_eq "$(member_digest u2 $M)" "$(member_digest c2 $M)" "digest of $M: u2 vs c2"
assert_eq "$(member_digest c2 $M)" "$(broker_digest $M)" "digest of $M: c2 vs broker"
assert_eq released "$(cli c1 member show $M --json | jq -r .closed)" \
    "c1's record of $M: released"
for n in c2 c1 u2 u1 br; do stop "$n"; done
log "ok"
