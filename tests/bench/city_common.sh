# Shared by the city benchmarks (bench_city.sh, bench_city_hub.sh), sourced after they set
# BROKER, NODE and DUR: data directories of brokers and nodes, registered and linked.

# free_port: sets PORT to a TCP port free on 127.0.0.1 that this run has not given out
# before, below the kernel's ephemeral range (as tests/integration/lib.sh). Not `$(...)`:
# the ports given are remembered in this shell. The brokers start only after every init,
# so a port merely free when drawn could be drawn twice; a hundred streets made that likely.
declare -A CITY_PORTS_USED=()
free_port() {
    while :; do
        PORT=$((20000 + RANDOM % 12000))
        [ -z "${CITY_PORTS_USED[$PORT]:-}" ] || continue
        CITY_PORTS_USED[$PORT]=1
        python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',$PORT))" 2>/dev/null &&
            return 0
    done
}
broker_init() { # DIR STREET [--hub]
    free_port
    $BROKER --data "$1" init --street "$2" --name 街道 --bind "tcp://127.0.0.1:$PORT" \
        --durability "$DUR" --web-bind '' ${3:-} >/dev/null
}
node_init() { # DIR ORG BROKERDIR
    $NODE --data "$1" init --org "$2" --name 组织 --street-card "$3/street.card" \
        --durability "$DUR" --web-bind '' >/dev/null
    $BROKER --data "$3" org add --card "$1/${2/:/-}.card" >/dev/null
}
link() { # BROKERDIR BROKERDIR: each adds the other's card
    $BROKER --data "$1" peer add --card "$2/street.card" >/dev/null
    $BROKER --data "$2" peer add --card "$1/street.card" >/dev/null
}
