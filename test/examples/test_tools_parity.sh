#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mqtls-pub and mqtls-sub beside mosquitto_pub and mosquitto_sub 2.0: for
# each flag the same command line is run with ours and with theirs against
# one Mosquitto of our own (plain TCP and mutual TLS listeners on free
# loopback ports, stopped by pid), and what a subscriber sees must be the
# same. Every wait is bounded.
#   test/examples/test_tools_parity.sh BUILD_DIR CERTS_DIR
set -u
build=$(cd "$1" && pwd)
certs=$(cd "$2" && pwd)
dir=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "tools parity: $*" >&2
    [ -f "$dir/mosquitto.log" ] && tail -n 60 "$dir/mosquitto.log" | sed 's/^/  mosquitto.log: /' >&2
    exit 1
}
. scripts/broker.sh
pick_port || exit 1
plain=$port
pick_port || exit 1
tls=$port
[ "$tls" != "$plain" ] || fail "the same port twice"
cat >"$dir/mosquitto.conf" <<CONF
persistence false
user $(id -un)
log_dest file $dir/mosquitto.log
log_type all
per_listener_settings true
listener $plain 127.0.0.1
allow_anonymous true
listener 0 $dir/mosquitto.sock
allow_anonymous true
listener $tls 127.0.0.1
cafile $certs/root-a.crt
certfile $certs/server-a-chain.pem
keyfile $certs/server-a.key
require_certificate true
use_identity_as_username true
CONF
broker_up() {
    "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf" >>"$dir/mosquitto.out" 2>&1 &
    broker=$!
    pids="$pids $broker"
    for _ in $(seq 1 50); do listening "$plain" && listening "$tls" && break; sleep 0.1; done
    listening "$plain" && listening "$tls" || fail "mosquitto did not start: $(cat "$dir/mosquitto.out")"
}
broker_up

ours_pub=$build/examples/mqtls-pub
ours_sub=$build/examples/mqtls-sub
TLSF="--cafile $certs/root-a.crt --cert $certs/device-001.crt --key $certs/device-001.key"

# watch TOPIC COUNT: a mosquitto_sub (plain) printing "topic payload" for
# COUNT messages into $dir/seen, in the background; waits until it is
# subscribed (bounded).
watch() {
    local before
    before=$(grep -c "Received SUBSCRIBE from watch-" "$dir/mosquitto.log")
    : >"$dir/seen"
    mosquitto_sub -h 127.0.0.1 -p "$plain" -t "$1" -v -C "$2" -W 20 -i "watch-$RANDOM" \
        >"$dir/seen" 2>"$dir/watch.err" &
    watcher=$!
    pids="$pids $watcher"
    for _ in $(seq 1 50); do
        [ "$(grep -c "Received SUBSCRIBE from watch-" "$dir/mosquitto.log")" -gt "$before" ] && break
        sleep 0.1
    done
    sleep 0.2
}
# seen: waits (in this shell: a $(...) subshell cannot wait for it, and
# would read the file before the watcher wrote it) until the watcher is
# done (bounded by its -W); then $seen is what it printed.
seen() {
    wait "$watcher" 2>/dev/null
    seen=$(cat "$dir/seen")
}

# same_pub NAME ARGS...: mosquitto_pub ARGS and mqtls-pub ARGS, each
# watched on topic parity/#, must deliver the same messages.
same_pub() {
    local name=$1 n=$2 theirs ours
    shift 2
    watch "parity/#" "$n"
    mosquitto_pub "$@" >/dev/null 2>"$dir/err" || fail "$name: mosquitto_pub failed: $(cat "$dir/err")"
    seen
    theirs=$seen
    watch "parity/#" "$n"
    "$ours_pub" "$@" >/dev/null 2>"$dir/err" || fail "$name: mqtls-pub failed: $(cat "$dir/err")"
    seen
    ours=$seen
    [ -n "$theirs" ] || fail "$name: mosquitto_pub delivered nothing (watcher: $(cat "$dir/watch.err"))"
    [ "$theirs" = "$ours" ] || fail "$name: mosquitto_pub delivered '$theirs', mqtls-pub '$ours'"
    echo "  $name: $(echo "$ours" | wc -l) message(s), the same"
}

printf 'line one\nline two\n' >"$dir/lines"
head -c 100000 /dev/urandom | base64 -w 0 >"$dir/big"
head -c 3000000 /dev/urandom | base64 -w 0 >"$dir/huge"
same_pub "-m, plain TCP" 1 -h 127.0.0.1 -p "$plain" -t parity/a -m hello
same_pub "-m, mutual TLS" 1 -h localhost -p "$tls" $TLSF -t parity/a -m hello
mkdir -p "$dir/capath"
cp "$certs/root-a.crt" "$dir/capath/"
openssl rehash "$dir/capath" 2>/dev/null || c_rehash "$dir/capath" >/dev/null || fail "cannot hash $dir/capath"
same_pub "--capath DIR" 1 -h localhost -p "$tls" --capath "$dir/capath" --cert "$certs/device-001.crt" \
    --key "$certs/device-001.key" -t parity/a -m capath
same_pub "-n (empty)" 1 -h 127.0.0.1 -p "$plain" -t parity/n -n
same_pub "-f FILE (100 KB)" 1 -h 127.0.0.1 -p "$plain" -t parity/f -f "$dir/big" -q 1
same_pub "-L URL" 1 -L "mqtt://127.0.0.1:$plain/parity/url" -m via-url
same_pub "--repeat 3 --repeat-delay 0.1" 3 -h 127.0.0.1 -p "$plain" -t parity/rep -m again --repeat 3 --repeat-delay 0.1
same_pub "--nodelay" 1 -h 127.0.0.1 -p "$plain" --nodelay -t parity/nodelay -m no-nagle
same_pub "--unix PATH" 1 --unix "$dir/mosquitto.sock" -t parity/unix -m over-a-unix-socket
before=$(grep -c "New connection from 127.0.0.2" "$dir/mosquitto.log")
same_pub "-A 127.0.0.2 (bind address)" 1 -h 127.0.0.1 -p "$plain" -A 127.0.0.2 -t parity/bind -m from-127.0.0.2
[ "$(grep -c "New connection from 127.0.0.2" "$dir/mosquitto.log")" -ge $((before + 2)) ] ||
    fail "-A 127.0.0.2: the broker did not see both connections come from 127.0.0.2"
same_pub "-V mqttv311 -I prefix -k 30" 1 -h 127.0.0.1 -p "$plain" -t parity/v -m v -V mqttv311 -I parity-prefix -k 30
# same_stdin FLAG COUNT WHAT: both publish $dir/lines from stdin with FLAG
# (COUNT messages seen); the watcher must see the same.
same_stdin() {
    local tool theirs=""
    for tool in "mosquitto_pub" "$ours_pub"; do
        watch "parity/#" "$2"
        $tool -h 127.0.0.1 -p "$plain" -t "parity/stdin$1" "$1" <"$dir/lines" 2>"$dir/err" ||
            fail "$tool $1: $(cat "$dir/err")"
        seen
        [ "$tool" = mosquitto_pub ] && theirs=$seen
    done
    [ "$theirs" = "$seen" ] || fail "$1: '$theirs' vs '$seen'"
    echo "  $1 ($3): the same"
}
same_stdin -l 2 "a message per line of stdin"
same_stdin -s 1 "all of stdin as one message"
grep -q "New client connected from .* as parity-prefix-[0-9]" "$dir/mosquitto.log" ||
    fail "-I: no client id with the prefix in the broker's log"

# -r: what each retains, a new subscriber reads back; then it is cleared.
for tool in "mosquitto_pub" "$ours_pub"; do
    name=$(basename "$tool")
    $tool -h 127.0.0.1 -p "$plain" -t parity/r -m "kept by $name" -q 1 -r 2>"$dir/err" || fail "$name -r: $(cat "$dir/err")"
    got=$(mosquitto_sub -h 127.0.0.1 -p "$plain" -t parity/r -C 1 -W 5)
    [ "$got" = "kept by $name" ] || fail "$name -r: read back '$got'"
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/r -r -n || fail "clearing the retained message"
done
echo "  -r (retained, read back): the same"

# --tls-name (mosquitto has none): connect to an address, verify the name.
watch "parity/#" 1
"$ours_pub" -h 127.0.0.1 -p "$tls" $TLSF --tls-name localhost -t parity/name -m named 2>"$dir/err" ||
    fail "--tls-name: $(cat "$dir/err")"
seen
[ "$seen" = "parity/name named" ] || fail "--tls-name: not delivered"
"$ours_pub" -h 127.0.0.1 -p "$tls" $TLSF --tls-name impostor.example -t parity/name -m x 2>"$dir/err" &&
    fail "--tls-name impostor.example: connected to a broker of another name"
grep -q "impostor.example" "$dir/err" || fail "--tls-name: the refusal does not name it: $(cat "$dir/err")"
echo "  --tls-name: verified as the name given, refused under another"

# The will: a client that vanishes without DISCONNECT has its will sent.
for tool in "mosquitto_sub" "$ours_sub"; do
    watch "parity/will" 1
    $tool -h 127.0.0.1 -p "$plain" -t parity/none -k 5 --will-topic parity/will --will-payload gone \
        --will-qos 1 -i "will-$RANDOM" >/dev/null 2>&1 &
    victim=$!
    pids="$pids $victim"
    sleep 1
    kill -KILL "$victim"
    wait "$victim" 2>/dev/null
    seen
    eval "will_$(basename "$tool" | tr -c 'a-z\n' _)=\"\$seen\""
done
[ "$will_mosquitto_sub" = "parity/will gone" ] || fail "mosquitto_sub's will: '$will_mosquitto_sub'"
[ "$will_mosquitto_sub" = "$will_mqtls_sub" ] || fail "the will: '$will_mosquitto_sub' vs '$will_mqtls_sub'"
echo "  --will-topic --will-payload --will-qos: the same"

# -c: a kept session gets what was published while it was away.
for tool in "mosquitto_sub" "$ours_sub"; do
    id="keep-$RANDOM"
    $tool -h 127.0.0.1 -p "$plain" -t parity/keep -q 1 -c -i "$id" -W 1 >/dev/null 2>&1
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/keep -q 1 -m "while away" || fail "-c: publish"
    got=$($tool -h 127.0.0.1 -p "$plain" -t parity/keep -q 1 -c -i "$id" -C 1 -W 10 2>"$dir/err")
    [ "$got" = "while away" ] || fail "$tool -c: got '$got' $(cat "$dir/err")"
done
echo "  -c -i (a kept session): the same"

# -W: both give up with status 27.
for tool in "mosquitto_sub" "$ours_sub"; do
    $tool -h 127.0.0.1 -p "$plain" -t parity/quiet -W 1 >/dev/null 2>&1
    st=$?
    [ "$st" = 27 ] || fail "$tool -W: status $st, not 27"
done
echo "  -W (timed out): status 27 from both"

# Any size the protocol allows (the buffers are sized to the message): 4 MB
# from mqtls-pub -f to mqtls-sub, byte for byte.
"$ours_sub" -h 127.0.0.1 -p "$plain" -t parity/huge -q 1 -C 1 -W 30 >"$dir/huge.got" 2>"$dir/huge.err" &
sub=$!
pids="$pids $sub"
sleep 0.5
"$ours_pub" -h 127.0.0.1 -p "$plain" -t parity/huge -q 1 -f "$dir/huge" 2>"$dir/err" || fail "-f 4 MB: $(cat "$dir/err")"
wait "$sub" || fail "4 MB: mqtls-sub status $?: $(cat "$dir/huge.err")"
{ cat "$dir/huge"; echo; } | cmp -s - "$dir/huge.got" || fail "4 MB: not the same bytes"
echo "  -f FILE (4 MB) to mqtls-sub: the same bytes"

# A broker restart: both subscribers reconnect by themselves and get what
# is published after it.
for tool in "mosquitto_sub" "$ours_sub"; do
    $tool -h 127.0.0.1 -p "$plain" -t parity/restart -q 1 -C 2 -W 40 -v >"$dir/restart.out" 2>"$dir/restart.err" &
    sub=$!
    pids="$pids $sub"
    sleep 0.5
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/restart -q 1 -m before || fail "publish before"
    kill "$broker"
    wait "$broker" 2>/dev/null
    broker_up
    for _ in $(seq 1 100); do # until it is back and subscribed (bounded)
        [ "$(grep -c "Received SUBSCRIBE" "$dir/mosquitto.log")" -gt "${subs_seen:-0}" ] &&
            grep -q "parity/restart" <(tail -n 5 "$dir/mosquitto.log") && break
        sleep 0.1
    done
    sleep 0.5
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/restart -q 1 -m after || fail "publish after"
    wait "$sub"
    st=$?
    [ "$st" = 0 ] || fail "$tool across a broker restart: status $st, got $(cat "$dir/restart.out") $(cat "$dir/restart.err")"
    printf 'parity/restart before\nparity/restart after\n' | cmp -s - "$dir/restart.out" ||
        fail "$tool across a broker restart got: $(cat "$dir/restart.out")"
    subs_seen=$(grep -c "Received SUBSCRIBE" "$dir/mosquitto.log")
done
echo "  a broker restart under -C 2: both reconnect and receive what came after"

# --max-payload: a larger message is reported and skipped, the next arrives.
"$ours_sub" -h 127.0.0.1 -p "$plain" -t parity/max -C 1 -W 20 --max-payload 1000 >"$dir/max.out" 2>"$dir/max.err" &
sub=$!
pids="$pids $sub"
sleep 0.5
head -c 2000 /dev/zero | tr '\0' x | mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/max -s || fail "publish big"
mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/max -m small || fail "publish small"
wait "$sub" || fail "--max-payload: status $?, $(cat "$dir/max.err")"
[ "$(cat "$dir/max.out")" = small ] || fail "--max-payload: got $(cat "$dir/max.out")"
grep -q "a message of 2000 bytes on parity/max is larger than --max-payload (1000): skipped" "$dir/max.err" ||
    fail "--max-payload: said $(cat "$dir/max.err")"
echo "  --max-payload: a larger message reported and skipped, the next received"

# The sub-only flags, ours and theirs on the same retained and live
# messages: -F (every 3.1.1 code but the times, then %j without its time
# stamp, with and without --pretty; the times after), -N, -R, -T,
# --retained-only.
mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/keep/a -r -q 1 -m 'say "hi"' || fail "retained a"
mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/keep/b -r -q 1 -m "$(printf 'two\tparts')" || fail "retained b"
# subs ARGS...: mosquitto_sub ARGS and mqtls-sub ARGS (a live message
# published to parity/keep/live after each has subscribed) must print the same.
subs() {
    local tool
    for tool in mosquitto_sub "$ours_sub"; do
        $tool -h 127.0.0.1 -p "$plain" -W 10 "$@" >"$dir/sub.$(basename "$tool")" 2>"$dir/sub.err" &
        sub=$!
        pids="$pids $sub"
        sleep 0.4
        mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/keep/live -m live || fail "live"
        wait "$sub"
        st=$?
        [ "$st" = 0 ] || [ "$st" = 27 ] || fail "$tool $*: status $st: $(cat "$dir/sub.err")"
        sed -i 's/"tst":\t*"[^"]*"/"tst":"T"/' "$dir/sub.$(basename "$tool")"
    done
    cmp -s "$dir/sub.mosquitto_sub" "$dir/sub.mqtls-sub" ||
        fail "mqtls-sub $*: printed $(cat -A "$dir/sub.mqtls-sub"), mosquitto_sub $(cat -A "$dir/sub.mosquitto_sub")"
    echo "  sub $*: the same"
}
subs -t 'parity/keep/#' -C 3 -F '%t|%q|%r|%l|%m|%x|%X|%%|%p'
subs -t 'parity/keep/#' -C 3 -F '%j'
subs -t 'parity/keep/#' -C 2 -F '%j' --pretty
subs -t 'parity/keep/#' -C 3 -N -v
subs -t 'parity/keep/#' -C 1 -R -v
subs -t 'parity/keep/#' -C 2 -T parity/keep/a -v
subs -t 'parity/keep/#' --retained-only -v
subs -t 'parity/keep/#' -E
# The time codes (%I ISO 8601, %U Unix time with nanoseconds, %j's "tst"):
# the same shape from both (digits aside), and the time now.
for tool in mosquitto_sub "$ours_sub"; do
    $tool -h 127.0.0.1 -p "$plain" -t parity/keep/a -C 1 -W 10 -F '%I|%U|%j' \
        >"$dir/time.$(basename "$tool")" 2>"$dir/sub.err" || fail "$tool -F %I|%U|%j: $(cat "$dir/sub.err")"
    u=$(cut -d'|' -f2 "$dir/time.$(basename "$tool")" | cut -d. -f1)
    now=$(date +%s)
    [ "$u" -ge $((now - 10)) ] && [ "$u" -le $((now + 1)) ] || fail "$tool %U printed $u, now is $now"
done
[ "$(tr 0-9 9 <"$dir/time.mosquitto_sub")" = "$(tr 0-9 9 <"$dir/time.mqtls-sub")" ] ||
    fail "-F '%I|%U|%j': mqtls-sub printed $(cat "$dir/time.mqtls-sub"), mosquitto_sub $(cat "$dir/time.mosquitto_sub")"
echo "  sub -F '%I|%U|%j' (the time codes): the same shape, the time now"
# --remove-retained: both clear what they see retained.
for tool in mosquitto_sub "$ours_sub"; do
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/gone -r -m stale || fail "retained"
    $tool -h 127.0.0.1 -p "$plain" -t parity/gone --remove-retained -W 2 >/dev/null 2>&1
    left=$(mosquitto_sub -h 127.0.0.1 -p "$plain" -t parity/gone -W 1 -C 1 2>/dev/null)
    [ -z "$left" ] || fail "$tool --remove-retained left '$left'"
done
echo "  sub --remove-retained: the same (nothing left)"
# -U with -c: a kept subscription removed, so nothing queues for it.
for tool in mosquitto_sub "$ours_sub"; do
    id="unsub-$RANDOM"
    $tool -h 127.0.0.1 -p "$plain" -t parity/u -q 1 -c -i "$id" -E >/dev/null 2>&1 || fail "$tool -c -E"
    $tool -h 127.0.0.1 -p "$plain" -U parity/u -t parity/other -c -i "$id" -E >/dev/null 2>&1 || fail "$tool -U -E"
    mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/u -q 1 -m "not for you" || fail "publish"
    got=$($tool -h 127.0.0.1 -p "$plain" -t parity/other -c -i "$id" -W 1 2>/dev/null)
    [ -z "$got" ] || fail "$tool -U: still got '$got'"
done
echo "  sub -U -c (unsubscribe a kept session): the same"

# Ours alone where mosquitto's flag takes another syntax or has no twin:
# --ciphers by IANA name (a suite the broker's ECDSA key cannot do is
# refused), --keyform pem, --random-filter.
watch "parity/cipher" 1
"$ours_pub" -h localhost -p "$tls" $TLSF --keyform pem --ciphers TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 \
    --tls-version tlsv1.2 -t parity/cipher -m suite 2>"$dir/err" || fail "--ciphers: $(cat "$dir/err")"
seen
[ "$seen" = "parity/cipher suite" ] || fail "--ciphers: not delivered"
"$ours_pub" -h localhost -p "$tls" $TLSF --ciphers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 --tls-version tlsv1.2 \
    -t parity/cipher -m x 2>"$dir/err" && fail "--ciphers with an RSA suite connected to an ECDSA broker"
grep -q "cannot connect" "$dir/err" || fail "--ciphers refusal: $(cat "$dir/err")"
"$ours_sub" -h 127.0.0.1 -p "$plain" -t parity/rand -C 200 -W 20 --random-filter 50 >"$dir/rand.out" 2>&1 &
sub=$!
pids="$pids $sub"
sleep 0.5
for _ in $(seq 1 4); do seq 1 100 | mosquitto_pub -h 127.0.0.1 -p "$plain" -t parity/rand -q 1 -l; done
wait "$sub"
kept=$(grep -c . "$dir/rand.out")
[ "$kept" -ge 120 ] && [ "$kept" -le 200 ] || fail "--random-filter 50 printed $kept of 400"
echo "  --ciphers (IANA names), --keyform pem, --random-filter 50 ($kept of 400 printed)"

# The options file ($XDG_CONFIG_HOME/PROG, one option per line): the same
# file under each tool's name, the rest on the command line.
mkdir -p "$dir/cfg"
printf '# the broker\n-h 127.0.0.1\n-p %s\n\n-q 1\n' "$plain" >"$dir/cfg/mosquitto_pub"
cp "$dir/cfg/mosquitto_pub" "$dir/cfg/mqtls-pub"
for tool in mosquitto_pub "$ours_pub"; do
    watch "parity/cfg" 1
    XDG_CONFIG_HOME=$dir/cfg $tool -t parity/cfg -m from-file 2>"$dir/err" || fail "$tool with an options file: $(cat "$dir/err")"
    seen
    [ "$seen" = "parity/cfg from-file" ] || fail "$tool with an options file: not delivered"
done
printf -- '-q 3\n' >"$dir/cfg/mqtls-pub"
XDG_CONFIG_HOME=$dir/cfg "$ours_pub" -t parity/cfg -m x 2>"$dir/err" && fail "an options file with -q 3 was taken"
grep -q "invalid QoS given for -q: '3'" "$dir/err" || fail "options file error: $(cat "$dir/err")"
echo "  options file (XDG_CONFIG_HOME/PROG): the same; its bad values refused in words"

# -d: each packet on the way, as mosquitto's -d.
"$ours_pub" -h 127.0.0.1 -p "$plain" -t parity/d -m x -d >/dev/null 2>"$dir/err" || fail "-d: $(cat "$dir/err")"
grep -q "sending CONNECT" "$dir/err" && grep -q "received CONNACK" "$dir/err" &&
    grep -q "sending PUBLISH" "$dir/err" || fail "-d printed: $(cat "$dir/err")"
echo "  -d: CONNECT, CONNACK and PUBLISH shown"
echo "tools parity: mqtls-pub and mqtls-sub deliver what mosquitto_pub and mosquitto_sub do"
