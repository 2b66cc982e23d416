#!/usr/bin/env bash
# No authenticated node can hurt the street (issue 11, "fair, bounded broker"). Each attack
# of the issue, by a node holding a valid key (ds-rawpeer), against the broker's budgets
# (docs/PROTOCOL.md "Budgets"), while unit:u1 and community:c1 keep syncing:
#   1. HELLO flood from a socket that never reads, with a 12 MB inbox behind it (3,000
#      letters of 4 KB; it was 200 events of 60 KiB of an unknown type, which case 5 now
#      refuses): the broker sends at most its send budget (8 MiB) per connection and
#      closes a connection that asks again with half of it unread. Before: each HELLO queued the window again
#      (this case: +255 MiB peak resident; the issue's street: 90 → 585 MB).
#   2. FETCH flood, never reading: the same budget.
#   3. Bad-signature flood (40 frames of 1,024 bad events): one check per frame, and the
#      peer is disconnected and banned once its refused frames reach 1 MiB
#      (BROKER_STRIKE_BYTES_MAX: four of these) or 32 (BROKER_STRIKES_MAX); its handshake is
#      refused while the ban lasts. Before: every event of every frame was
#      checked (2 s of CPU) and the peer never disconnected.
#   4. Connections per key: the handshake admits TRANSPORT_CONNS_PER_KEY (4).
#   5. Events of a type the broker does not know (a newer node's): one is stored and
#      delivered to the other side of the member's registration; a body over 8 KiB
#      (BROKER_UNKNOWN_BODY_MAX) is refused (a strike), and a burst beyond the org's
#      allowance of 256 (BROKER_UNKNOWN_BURST, one more per 10 s) is told ERROR_BUSY (resend
#      later, no strike), each counted (unknown_type_refused).
#   6. 24,576 valid events at once: beyond the org's verify budget (4,096 events) frames
#      are refused unchecked, their bytes count toward a ban (no honest node's window is
#      larger), and the org is banned; the street is never paused for it (read_pauses 0).
# Memory bound: the broker's peak resident size (VmHWM) may grow by at most 32 MiB over an
# attack, measured after a warm-up that read the same inbox once (RocksDB's block cache,
# 32 MiB, is then as full as the attack makes it). 32 MiB is four send budgets: a frame's
# copies in the broker's send path and libzmq's queue, with room for the allocator; the
# broker before the budgets grew by 255 MiB in case 1 (measured with this script). ASan's quarantine of freed memory (256 MiB by
# default) would hide any bound, so the broker runs with a small one.
. "$(dirname "$0")/lib.sh" "$@"
RAWPEER=$DS_BINDIR/tests/tools/ds-rawpeer
[ -x "$RAWPEER" ] || fail "tool not built: $RAWPEER"
rawpeer() { "$RAWPEER" "$T/$1" "${@:2}"; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
BOUND_KIB=$((32 * 1024))

peak_kib() { awk '/^VmHWM/ {print $2}' "/proc/$(pid_of br)/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(pid_of br)/stat"; }
counter() { json_get br ".counters.$1"; }

# One letter from the unit to the community, each side in sync within the deadline.
honest_round() { # MEMBER
    run_ok cli u1 intro send --member "$1" --name 张三 --community community:c1 >/dev/null
    sync_wait u1 30
    sync_wait c1 30
    assert_eq "$(member_digest u1 "$1")" "$(member_digest c1 "$1")" "digest of $1, unit vs community"
}

init_street 1 1
init_node evilc community:evilc 不读的社区 add
init_node future unit:future 大事件单位 add
init_node evilu unit:evilu 坏签名单位 add
init_node crowd unit:crowd 多连接单位 add
start br
start u1
start c1
wait_ready u1 c1
honest_round T-0

log "community:evilc's inbox: 3,000 letters of 4 KB from unit:future (12 MB)"
out=$(rawpeer future intro M1,community:evilc)
assert_eq 1 "$(jq .acks <<<"$out")" "introduction acked ($out)"
out=$(rawpeer future letters M1)
assert_eq '{}' "$(jq -c .errors <<<"$out")" "letters accepted ($out)"
assert_eq 3001 "$(jq .acked <<<"$out")" "every letter acked ($out)"

log "1. HELLO flood from a socket that never reads"
rawpeer evilc hello-flood 1 --hold 1 >/dev/null # warm-up: the inbox read once
base=$(peak_kib)
rawpeer evilc hello-flood 40 --hold 4 >"$T/hello-flood.out" &
flood=$!
honest_round T-1 # while it holds its connections open
wait_for json_ge br .counters.full_closed 1 --deadline 20
unread=$(broker_peer .send_unread_bytes community:evilc)
assert_ge $((8 * 1024 * 1024 + 1100000)) "$unread" "evilc's unread bytes within its send budget"
wait "$flood"
grew=$(($(peak_kib) - base))
log "peak resident grew by $grew KiB (bound $BOUND_KIB)"
assert_ge "$BOUND_KIB" "$grew" "HELLO flood: peak resident growth"

log "2. FETCH flood, never reading"
closed=$(counter full_closed)
base=$(peak_kib)
rawpeer future fetch-flood 40 --hold 3 >/dev/null &
flood=$!
honest_round T-2
wait_for json_ge br .counters.full_closed $((closed + 1)) --deadline 20
wait "$flood"
grew=$(($(peak_kib) - base))
log "peak resident grew by $grew KiB (bound $BOUND_KIB)"
assert_ge "$BOUND_KIB" "$grew" "FETCH flood: peak resident growth"

log "3. bad-signature flood: 40 frames of 1,024 events, every signature bad"
banned0=$(counter peers_banned) # evilc may be banned already: each closed connection is a strike
cpu0=$(cpu_ticks)
out=$(rawpeer evilu badsig-flood 40)
wait_for json_ge br .counters.peers_banned $((banned0 + 1)) --deadline 20
cpu=$(($(cpu_ticks) - cpu0))
hz=$(getconf CLK_TCK)
log "broker CPU over the flood: $cpu ticks of 1/$hz s ($out)"
assert_ge 32 "$(jq '.errors.ERROR_AUTH // 0' <<<"$out")" "answered until disconnected ($out)"
log "banned after $(jq '.errors.ERROR_AUTH // 0' <<<"$out") refusals (1 MiB of refused frames)"
assert_ge 8 "$(jq '.errors.ERROR_AUTH // 0' <<<"$out")" "banned within 1 MiB of refused frames, not 32 frames"
assert_ge "$hz" "$cpu" "broker CPU under 1 s (every event checked: 2 s in release builds)"
assert_eq 0 "$(broker_peer .stored_upto unit:evilu)" "nothing stored for unit:evilu"
assert_gt "$(broker_peer .banned_ms unit:evilu)" 0 "unit:evilu banned"
out=$(rawpeer evilu bad-sig)
assert_eq false "$(jq .welcomed <<<"$out")" "a banned key is refused at the handshake ($out)"
assert_ge "$(counter ban_refused)" 1 "ban_refused counted"
broker status | grep -q "peers_banned=[1-9]" || fail "human status shows peers_banned"
honest_round T-3

log "4. one key, seven connections: four are admitted"
out=$(rawpeer crowd conn-flood 6)
assert_eq true "$(jq .welcomed <<<"$out")" "the first connection welcomed ($out)"
assert_eq 3 "$(jq .welcomed_conns <<<"$out")" "three more welcomed, the rest refused ($out)"
assert_ge "$(counter conn_refused)" 3 "conn_refused counted"
honest_round T-4

log "5. an event type the broker does not know: within its limits, and beyond them"
out=$(rawpeer future intro M2,community:c1)
assert_eq 1 "$(jq .acks <<<"$out")" "introduction of M2 to community:c1 acked ($out)"
out=$(rawpeer future unknown-type M2)
assert_eq '{}' "$(jq -c .errors <<<"$out")" "a small one accepted ($out)"
assert_eq 1 "$(counter unknown_types)" "unknown_types counted"
sync_wait c1 30
assert_eq 2 "$(cli c1 member show M2 --json | jq .events)" "community:c1 holds the introduction and it"
stored=$(broker_peer .stored_upto unit:future)
out=$(rawpeer future unknown-type M2 --body 8193)
assert_eq 1 "$(jq '.errors.ERROR_MALFORMED // 0' <<<"$out")" "a body over 8 KiB refused ($out)"
assert_eq 1 "$(counter unknown_type_refused)" "unknown_type_refused counted"
assert_eq "$stored" "$(broker_peer .stored_upto unit:future)" "nothing stored"
strikes=$(broker_peer .strikes unit:future)
out=$(rawpeer future unknown-type M2 --count 300)
assert_eq 1 "$(jq '.errors.ERROR_BUSY // 0' <<<"$out")" "a burst of 300 told to wait at its end ($out)"
assert_eq "$strikes" "$(broker_peer .strikes unit:future)" "a rate is no strike"
assert_eq 2 "$(counter unknown_type_refused)" "unknown_type_refused counted"
took=$(($(broker_peer .stored_upto unit:future) - stored))
assert_ge "$took" 255 "the rest of the allowance of 256 stored"
assert_ge 256 "$took" "nothing beyond the allowance stored"
sync_wait c1 30
assert_eq $((2 + took)) "$(cli c1 member show M2 --json | jq .events)" "community:c1 holds them"
assert_eq "$(member_digest c1 M2)" "$(broker_digest M2)" "digest of M2, community vs broker"
assert_ge "$(broker_peer .strikes unit:future)" 1 "the oversize body was a strike"
assert_eq 0 "$(broker_peer .banned_ms unit:future)" "and no ban"
honest_round T-5

log "6. 24,576 valid events at once: over the org's verify budget, refused unchecked"
stored=$(broker_peer .stored_upto unit:future)
banned0=$(counter peers_banned)
out=$(rawpeer future flood M1)
wait_for json_ge br .counters.over_budget 1 --deadline 30
# No honest node has more unacked than the event budget: the refused frames' bytes count
# toward a ban (1 MiB), and the frames of a banned org still waiting for checks are dropped.
wait_for json_ge br .counters.peers_banned $((banned0 + 1)) --deadline 30
honest_round T-6
assert_eq 0 "$(counter read_pauses)" "the street was never paused for one peer"
now=$(broker_peer .stored_upto unit:future)
# The budget bounds what the broker holds of an org unanswered (4,096 events), not what it
# stores of a flood in all: frames it stores and answers between its reads (a vouched
# connection's, stored by the loop) free their budget, as an honest node's acks would. So
# how much is stored before the refusals and the ban depends on the two sides' speeds;
# that the refused frames were not stored does not.
assert_ge $((stored + 24576 - 1)) "$now" "the frames over the budget not stored"
alive br || fail "the broker died"
log "ok"
