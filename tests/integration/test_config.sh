# test_config.sh -- the command line and configuration checking: -t on
# good and bad files (FILE:LINE:COL errors, all of them reported), -V, -h,
# and start-up failures that must exit 1 rather than run half-configured.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_config.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

[ -x "$DNSWARD" ] || bail "daemon binary DNSWARD=$DNSWARD executable" "missing"

C=$WORK/conf
mkdir -p "$C"

# run_dw ARGS...: run the daemon (bounded: 10 s), status in RUN_ST,
# stdout+stderr in RUN_OUT.
run_dw() {
	RUN_OUT=$(timeout 10 "$DNSWARD" "$@" 2>&1)
	RUN_ST=$?
}

# --- -V, -h, bad options ------------------------------------------------------

run_dw -V
check_eq "-V exits 0" 0 "$RUN_ST"
check_match "-V names dnsward and its version" "^dnsward [0-9]" "$RUN_OUT"
for lib in libevent ldns libunbound libmaxminddb libpsl libyaml; do
	check_match "-V names $lib" "$lib" "$RUN_OUT"
done
run_dw -h
check_eq "-h exits 0" 0 "$RUN_ST"
check_match "-h prints a usage naming -c and -t" "-c.*" "$RUN_OUT"
run_dw -Z
check_eq "an unknown option exits 1" 1 "$RUN_ST"

# --- -t on good files -------------------------------------------------------------

pick_port P1
pick_port P2
cat >"$C/good.yaml" <<EOF
server:
  listen: ["127.0.0.1:$P1", "[::1]:$P1"]
  threads: 1
  allow-clients: ["127.0.0.1/32", "::1/128"]
  tcp: { max-connections: 50, idle-timeout: 2s }
  edns-buffer-size: 1232
resolver:
  mode: forward
  upstreams: ["127.0.0.1:$P2"]
  timeout: 500ms
log:
  decisions: { file: $WORK/decisions.jsonl }
EOF
run_dw -t -c "$C/good.yaml"
check_eq "-t on a good file exits 0" 0 "$RUN_ST"
check_eq "-t does not start listening" "" \
    "$(ss -Hlntu | awk '{print $5}' | grep -E ":$P1\$")"

cat >"$C/good2.yaml" <<EOF
# every spelling the config accepts for these keys
server:
  listen:
    - "127.0.0.1:$P1"
    - "[::1]:$P1"
  threads: auto
  allow-clients:
    - 127.0.0.0/8
    - "::1/128"
    - 10.0.0.0/8
  tcp:
    max-connections: 1000
    idle-timeout: 10s
  edns-buffer-size: 4096
resolver:
  mode: forward
  upstreams: ["127.0.0.1:$P2", "[::1]:$P2", "192.0.2.53"]
  timeout: 1500ms
log:
  decisions: { stdout: true }
EOF
run_dw -t -c "$C/good2.yaml"
check_eq "-t on block-style lists, threads: auto, default port, stdout sink" \
    0 "$RUN_ST"
[ "$RUN_ST" = 0 ] || note "$RUN_OUT"

if [ -f "$SRCDIR/conf/dnsward.yaml" ]; then
	# The shipped reference must be valid (upstreams: [system] needs a
	# nameserver in /etc/resolv.conf, which make check machines have).
	run_dw -t -c "$SRCDIR/conf/dnsward.yaml"
	check_eq "-t on the shipped conf/dnsward.yaml exits 0" 0 "$RUN_ST"
	[ "$RUN_ST" = 0 ] || note "$RUN_OUT"
else
	skip "conf/dnsward.yaml: not in the tree yet"
fi

# --- -t on bad files: FILE:LINE:COL, exit 1 ---------------------------------------

printf 'server:\n  lisen: ["127.0.0.1:%s"]\n' "$P1" >"$C/bad.yaml"
run_dw -t -c "$C/bad.yaml"
check_eq "-t on an unknown key exits 1" 1 "$RUN_ST"
check_match "-t reports the unknown key 'lisen' at bad.yaml:2:3:" \
    "^$C/bad.yaml:2:3: .*lisen" "$RUN_OUT"

# Many errors in one file: every one reported, each at its value.
cat >"$C/multi.yaml" <<'EOF'
server:
  listen: ["127.0.0.1:5353", "300.1.1.1:53"]
  threads: many
  allow-clients: ["10.0.0.0/33"]
  tcp: { max-connections: -5, idle-timeout: 5parsecs }
  edns-buffer-size: 100
resolver:
  mode: sideways
  upstreams: "127.0.0.1"
  timeout: 0
  bogus: 1
log:
  decisions: { file: /tmp/x.jsonl, colour: true }
EOF
run_dw -t -c "$C/multi.yaml"
check_eq "-t on a file with 11 errors exits 1" 1 "$RUN_ST"
for pos in "2:30 listen address 300.1.1.1" "3:12 threads: many" \
    "4:19 allow-clients /33" "5:27 max-connections: -5" \
    "5:45 idle-timeout: 5parsecs" "6:21 edns-buffer-size: 100" \
    "8:9 mode: sideways" "9:14 upstreams not a list" "10:12 timeout: 0" \
    "11:3 unknown key bogus" "13:36 unknown key colour"; do
	lc=${pos%% *}
	check_match "-t reports ${pos#* } at multi.yaml:$lc:" \
	    "^$C/multi.yaml:$lc: " "$RUN_OUT"
done
check_eq "-t reports each of the 11 errors once" 11 \
    "$(printf '%s\n' "$RUN_OUT" | grep -c "^$C/multi.yaml:[0-9]*:[0-9]*: ")"

printf 'server:\n  listen: ["127.0.0.1:5353"\n' >"$C/syntax.yaml"
run_dw -t -c "$C/syntax.yaml"
check_eq "-t on a YAML syntax error exits 1" 1 "$RUN_ST"
check_match "-t reports the YAML syntax error as FILE:LINE:COL:" \
    "^$C/syntax.yaml:[0-9]+:[0-9]+: " "$RUN_OUT"

printf 'server:\n  threads: 1\n  threads: 2\n' >"$C/dup.yaml"
run_dw -t -c "$C/dup.yaml"
check_eq "-t on a duplicate key exits 1" 1 "$RUN_ST"
check_match "-t reports the duplicate key at dup.yaml:3:3:" \
    "^$C/dup.yaml:3:3: " "$RUN_OUT"

printf 'server: ["127.0.0.1"]\n' >"$C/type.yaml"
run_dw -t -c "$C/type.yaml"
check_eq "-t on a list where a map belongs exits 1" 1 "$RUN_ST"
check_match "-t reports the wrong type at type.yaml:1:9:" \
    "^$C/type.yaml:1:9: " "$RUN_OUT"

printf 'resolver:\n  upstreams: ["127.0.0.1:%s"]\n' "$P1" >"$C/loop.yaml"
printf 'server:\n  listen: ["127.0.0.1:%s"]\n' "$P1" >>"$C/loop.yaml"
run_dw -t -c "$C/loop.yaml"
check_eq "-t on an upstream equal to a listen address (loop) exits 1" 1 \
    "$RUN_ST"

run_dw -t -c "$C/no-such-file.yaml"
check_eq "-t on a missing file exits 1" 1 "$RUN_ST"
check_match "-t on a missing file names it" "no-such-file\.yaml" "$RUN_OUT"

# --- start-up failures exit 1 ---------------------------------------------------

run_dw -c "$C/bad.yaml"
check_eq "starting with a bad config exits 1" 1 "$RUN_ST"
check_match "starting with a bad config prints FILE:LINE:COL" \
    "^$C/bad.yaml:2:3: " "$RUN_OUT"

# A port held by another process (a UDP socket without SO_REUSEADDR).
start_listener P3 blackhole 20
BH=$LISTENER_PID
sed "s/127.0.0.1:$P1\", \"\[::1\]:$P1\"/127.0.0.1:$P3\"/" "$C/good.yaml" \
    >"$C/busy.yaml"
# Not the default control socket: another dnsward on this machine may hold it.
printf 'control: off\n' >>"$C/busy.yaml"
run_dw -c "$C/busy.yaml"
check_eq "starting on a UDP port already in use exits 1" 1 "$RUN_ST"
check_match "the bind failure is reported" "$P3" "$RUN_OUT"
kill "$BH" 2>/dev/null
wait_exit "$BH" 20

finish
