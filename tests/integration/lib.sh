# lib.sh -- shared harness for dnsward's integration tests.
#
# Sourced by tests/integration/test_*.sh (run with bash from the repository
# root).  Environment (set by the Makefile; defaults for running by hand):
#   DNSWARD  absolute path of the daemon        (default: src/dnsward)
#   TOOLS    directory holding the built dwq     (default: tests/tools)
#   SRCDIR   repository root                     (default: .)
#
# Everything runs on loopback, on free random ports, in a private mktemp
# directory.  Processes started here are remembered by PID and only those
# are killed on exit.  Every wait is a bounded poll loop.
#
# Output: one "ok - ..." / "FAIL - ... expected X got Y" line per check, a
# "skip - ..." line for a check that cannot run here (with the reason), and
# finally "N passed, N failed"; the exit status is 0 iff nothing failed.

set -u

SRCDIR=${SRCDIR:-.}
DNSWARD=${DNSWARD:-$SRCDIR/src/dnsward}
TOOLS=${TOOLS:-$SRCDIR/tests/tools}

T_PASS=0
T_FAIL=0
T_DONE=0
T_PIDS=""
T_PORTS=" "
T_NAME=$(basename "$0" .sh)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dnsward-$T_NAME.XXXXXX") || {
	echo "FAIL - mktemp -d expected a work directory got none"
	echo "0 passed, 1 failed"
	exit 1
}

# --------------------------------------------------------------- results

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $*"
}

# fail DESCRIPTION EXPECTED GOT
fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL - $1 expected $2 got $3"
}

skip() {
	echo "skip - $*"
}

# Print a note (context for a human reading the output; not a check).
note() {
	echo "# $*"
}

# check_eq DESCRIPTION EXPECTED GOT
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "'$2'" "'$3'"
	fi
}

# check_match DESCRIPTION EXTENDED-REGEX TEXT
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1" "match /$2/" "'$(printf '%s' "$3" | head -c 600 | tr '\n' '|')'"
	fi
}

# check_nomatch DESCRIPTION EXTENDED-REGEX TEXT
check_nomatch() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		fail "$1" "no match /$2/" "'$(printf '%s' "$3" | head -c 600 | tr '\n' '|')'"
	else
		ok "$1"
	fi
}

# check_le DESCRIPTION GOT MAX  (integers)
check_le() {
	if [ "$2" -le "$3" ] 2>/dev/null; then
		ok "$1 ($2 <= $3)"
	else
		fail "$1" "<= $3" "$2"
	fi
}

# check_ge DESCRIPTION GOT MIN  (integers)
check_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then
		ok "$1 ($2 >= $3)"
	else
		fail "$1" ">= $3" "$2"
	fi
}

# kv KEY LINE: the value of KEY in a "k=v k=v" line from dwq.
kv() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

summary() {
	[ "$T_DONE" = 1 ] && return
	T_DONE=1
	echo "$T_PASS passed, $T_FAIL failed"
}

# bail REASON: a fatal set-up problem; counted as a failure, then stop.
bail() {
	fail "$T_NAME set-up: $1" "success" "${2:-failure}"
	finish
}

finish() {
	summary
	[ "$T_FAIL" = 0 ] && exit 0
	exit 1
}

# ----------------------------------------------------- process tracking

track() {
	T_PIDS="$T_PIDS $1"
}

untrack() {
	local p out=""
	for p in $T_PIDS; do
		[ "$p" = "$1" ] || out="$out $p"
	done
	T_PIDS=$out
}

# alive PID: running and not a zombie (our exited children stay zombies
# until waited for, and kill -0 still succeeds on them).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# wait_exit PID TENTHS: wait (bounded) for our child PID to exit; sets
# WAIT_ST to its exit status, or "running".  Not in $(...): a subshell
# cannot reap the parent's children.
wait_exit() {
	local pid=$1 n=0
	while alive "$pid" && [ "$n" -lt "$2" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if alive "$pid"; then
		WAIT_ST=running
		return
	fi
	wait "$pid" 2>/dev/null
	WAIT_ST=$?
	untrack "$pid"
}

cleanup() {
	local p n
	trap - EXIT INT TERM
	for p in $T_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		n=0
		while alive "$p" && [ "$n" -lt 30 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		echo "# work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
# A script that ends without finish() (an error under set -u, a crash of
# a helper) must not look like a pass.
on_exit() {
	local st=$?
	if [ "$T_DONE" = 0 ]; then
		fail "$T_NAME ran to the end" "finish" "exit status $st"
		summary
		st=1
	fi
	cleanup
	exit "$st"
}
trap on_exit EXIT
trap 'echo "FAIL - interrupted expected completion got signal"; T_FAIL=$((T_FAIL + 1)); exit 1' INT TERM

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ------------------------------------------------------------- ports

# Is PORT held by any socket at all (listening, connected, UDP)?
port_held() {
	ss -Hantu 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$1\$"
}

# pick_port VAR: set VAR to a random port with nothing on it, TCP or UDP,
# not handed out before in this script (not in $(...): the list of ports
# handed out lives in this shell).  Picked below the kernel's ephemeral
# range, where client sockets (dig, upstream queries) do not land.
pick_port() {
	local _pp_i _pp_p _pp_lo=10000 _pp_hi
	_pp_hi=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range \
	    2>/dev/null)
	[ "${_pp_hi:-0}" -gt $((_pp_lo + 5000)) ] 2>/dev/null || _pp_hi=60999
	for _pp_i in $(seq 1 100); do
		_pp_p=$((_pp_lo + (RANDOM * 32768 + RANDOM) % (_pp_hi - _pp_lo)))
		case "$T_PORTS" in *" $_pp_p "*) continue ;; esac
		port_held "$_pp_p" && continue
		T_PORTS="$T_PORTS$_pp_p "
		printf -v "$1" '%s' "$_pp_p"
		return 0
	done
	return 1
}

# start_listener VAR DWQ-SUBCOMMAND [ARGS...]: run "dwq SUBCOMMAND
# 127.0.0.1 PORT ARGS..." (blackhole, upstream) on a picked port, wait
# (bounded) for its "ready"; a port taken meanwhile means another try.
# Sets VAR to the port.
start_listener() {
	local _sl_var=$1 _sl_cmd=$2 _sl_port _sl_try _sl_n _sl_pid
	shift 2
	for _sl_try in 1 2 3; do
		pick_port _sl_port || bail "no free port for dwq $_sl_cmd"
		"$DWQ" "$_sl_cmd" 127.0.0.1 "$_sl_port" "$@" \
		    >"$WORK/listener.$_sl_port" 2>&1 &
		_sl_pid=$!
		track "$_sl_pid"
		_sl_n=0
		while [ "$_sl_n" -lt 30 ] && alive "$_sl_pid" &&
		    ! grep -q ready "$WORK/listener.$_sl_port"; do
			sleep 0.1
			_sl_n=$((_sl_n + 1))
		done
		if grep -q ready "$WORK/listener.$_sl_port"; then
			printf -v "$_sl_var" '%s' "$_sl_port"
			LISTENER_PID=$_sl_pid
			return 0
		fi
		kill "$_sl_pid" 2>/dev/null
		wait_exit "$_sl_pid" 10
	done
	bail "dwq $_sl_cmd ready on a free port" \
	    "$(cat "$WORK/listener.$_sl_port")"
}

# Does the kernel have an IPv6 loopback we can bind?
have_ipv6() {
	[ -e /proc/net/if_inet6 ] || return 1
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# ------------------------------------------------------------- tools

need() {
	command -v "$1" >/dev/null 2>&1 || bail "command '$1' installed" \
	    "missing"
}

# DWQ: the packet probe.  Built by the Makefile into $TOOLS; when run by
# hand without it, compile it here (it only needs libc).
setup_dwq() {
	if [ -x "$TOOLS/dwq" ]; then
		DWQ=$TOOLS/dwq
		return
	fi
	if [ -f "$SRCDIR/tests/tools/dwq.c" ] &&
	    cc -std=gnu11 -O2 -o "$WORK/dwq" "$SRCDIR/tests/tools/dwq.c" \
	    >"$WORK/dwq.cc.log" 2>&1; then
		DWQ=$WORK/dwq
		note "built dwq in $WORK (not found in $TOOLS)"
		return
	fi
	bail "dwq in $TOOLS or buildable from tests/tools/dwq.c" "missing"
}

need ss
need dig
need nsd
setup_dwq

# ------------------------------------------------------------------ NSD

# make_zone FILE: the test zone (plus the lines of $NSD_EXTRA, if set).
make_zone() {
	local i big mid
	{
		cat <<'EOF'
$ORIGIN test.
$TTL 300
@	IN SOA	ns.test. admin.test. 2026112301 3600 600 86400 300
@	IN NS	ns.test.
@	IN MX	10 mail.test.
@	IN MX	20 mail2.test.
ns	IN A	127.0.0.1
mail	IN A	192.0.2.25
host	IN A	192.0.2.1
host	IN A	192.0.2.2
host	IN AAAA	2001:db8::1
txt	IN TXT	"hello world" "with \"quotes\" and  spaces"
txt	IN TXT	"back\\slash; semi" "tab\009 and \255 byte"
www	IN CNAME host.test.
chain	IN CNAME www.test.
EOF
		# ~800 bytes: over 512, under 1232.
		mid=$(printf 'm%.0s' $(seq 1 150))
		for i in 1 2 3 4 5; do
			echo "mid	IN TXT	\"$i-$mid\""
		done
		# ~8.4 KB: over any UDP size we allow, needs TCP.
		big=$(printf 'b%.0s' $(seq 1 200))
		for i in $(seq 1 40); do
			echo "big	IN TXT	\"$i-$big\""
		done
		[ -n "${NSD_EXTRA:-}" ] && printf '%s\n' "$NSD_EXTRA"
	} >"$1"
}

# start_nsd: NSD on 127.0.0.1:$NSD_PORT serving "test.".  A port taken
# between pick_port and bind (tests may run in parallel) means another try.
start_nsd() {
	local try
	for try in 1 2 3; do
		start_nsd_once && return 0
		grep -q 'already in use' "$WORK/nsd/nsd.log" 2>/dev/null || break
		note "nsd: port $NSD_PORT taken meanwhile, trying another"
	done
	cat "$WORK/nsd/nsd.out" "$WORK/nsd/nsd.log" 2>/dev/null |
	    sed 's/^/# nsd: /'
	bail "nsd answering on 127.0.0.1:$NSD_PORT within 5 s" "${NSD_WHY:-no}"
}

# block_feed_conf PATH: the feeds: and policy: sections of a daemon with
# one feed, "bad" (PATH), whose names a rule blocks (for DW_EXTRA).
block_feed_conf() {
	printf '%s\n' "feeds:
  - { id: bad, path: $1 }
policy:
  groups:
    - name: g
      priority: 10
      rules:
        - { name: block-bad, priority: 10, match: { feed: bad }, action: block }"
}

# nsd_conf DIR ADDR PORT ZONE ZONEFILE: write DIR/nsd.conf for one NSD in
# the foreground serving ZONE from DIR/ZONEFILE on ADDR:PORT (IPv4), its
# state and log in DIR.  Shared by start_nsd, hier.sh and test_zones.sh.
nsd_conf() {
	cat >"$1/nsd.conf" <<EOF
server:
	ip-address: $2@$3
	port: $3
	do-ip4: yes
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$1"
	pidfile: "$1/nsd.pid"
	database: ""
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	zonelistfile: "$1/zone.list"
	logfile: "$1/nsd.log"
	verbosity: 1
	server-count: 1
	tcp-count: 200
	hide-version: yes
	# NSD limits responses per client net by default; every query here
	# comes from 127.0.0.1, so that would starve the tests.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	# start-up: the default RRL table (32 MB, cleared) and xfrd's
	# 128 x 128 TCP query IDs (16384 getrandom calls) cost ~0.25 s
	rrl-size: 1
	xfrd-tcp-max: 1
	xfrd-tcp-pipeline: 1
remote-control:
	control-enable: no
zone:
	name: "$4"
	zonefile: "$5"
EOF
}

start_nsd_once() {
	local d=$WORK/nsd n=0
	rm -rf "$d"
	mkdir -p "$d"
	pick_port NSD_PORT || bail "no free port for NSD"
	make_zone "$d/test.zone"
	nsd_conf "$d" 127.0.0.1 "$NSD_PORT" test. test.zone
	nsd -d -c "$d/nsd.conf" >"$d/nsd.out" 2>&1 &
	NSD_PID=$!
	track "$NSD_PID"
	while [ "$n" -lt 50 ]; do
		if ! alive "$NSD_PID"; then
			wait_exit "$NSD_PID" 1
			NSD_WHY="nsd exited with status $WAIT_ST"
			return 1
		fi
		if dig @127.0.0.1 -p "$NSD_PORT" +time=1 +tries=1 +short \
		    soa test. 2>/dev/null | grep -q '^ns\.test\.'; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	NSD_WHY="no answer"
	return 1
}

# stop_nsd: stop our NSD (SIGTERM, by its PID; SIGKILL after 5 s) and
# wait for it to be gone, so that its port no longer answers.
stop_nsd() {
	kill -TERM "$NSD_PID" 2>/dev/null
	wait_exit "$NSD_PID" 50
	if [ "$WAIT_ST" = running ]; then
		kill -KILL "$NSD_PID" 2>/dev/null
		wait_exit "$NSD_PID" 20
	fi
}

# nsd_dig ARGS...: ask NSD directly (the reference answers).
nsd_dig() {
	dig @127.0.0.1 -p "$NSD_PORT" +time=2 +tries=1 "$@" 2>&1
}

# ------------------------------------------------------------- dnsward

# write_conf FILE PORT THREADS UPSTREAM... : the standard test config.
# Set DW_TIMEOUT / DW_ALLOW / DW_LISTEN / DW_TCP_MAX / DW_TCP_IDLE /
# DW_EDNS / DW_USER (server.user, root by default: the tests' files are
# root's; set and empty: no user line) / DW_CTL (control.socket; $DW_DIR/control.sock by default) /
# DW_RESOLVER (the whole resolver: section, replacing mode/upstreams/
# timeout) / DW_SINK ("stdout: true") / DW_CACHE (the cache: mapping, e.g.
# "{ size: off }"; the daemon's defaults otherwise) to vary it, DW_EXTRA
# (YAML text, e.g. feeds: and policy: sections) to add to it.
write_conf() {
	local f=$1 port=$2 threads=$3 ups="" u
	shift 3
	for u in "$@"; do
		ups="$ups${ups:+, }\"$u\""
	done
	local listen=${DW_LISTEN:-"\"127.0.0.1:$port\", \"[::1]:$port\""}
	# Quoted: an unquoted ::1/128 is not valid in a YAML flow sequence.
	local allow=${DW_ALLOW:-'"127.0.0.1/32", "::1/128"'}
	cat >"$f" <<EOF
# written by tests/integration/$T_NAME.sh
server:
  listen: [$listen]
  threads: $threads
  allow-clients: [$allow]
  tcp: { max-connections: ${DW_TCP_MAX:-50}, idle-timeout: ${DW_TCP_IDLE:-2s} }
  edns-buffer-size: ${DW_EDNS:-1232}
$([ -n "${DW_USER-root}" ] && echo "  user: ${DW_USER-root}")
${DW_RESOLVER:-resolver:
  mode: forward
  upstreams: [$ups]
  timeout: ${DW_TIMEOUT:-500ms}}
log:
  decisions: { ${DW_SINK:-file: $WORK/$DW_NAME/decisions.jsonl} }
control: { socket: ${DW_CTL:-$WORK/$DW_NAME/control.sock} }
EOF
	[ -n "${DW_CACHE:-}" ] && printf 'cache: %s\n' "$DW_CACHE" >>"$f"
	# More sections (feeds:, policy:), as YAML text.
	[ -n "${DW_EXTRA:-}" ] && printf '%s\n' "$DW_EXTRA" >>"$f"
	return 0
}

# start_dnsward NAME THREADS UPSTREAM...: start an instance with the
# standard config (see write_conf) on a free port.  Sets DW_NAME, DW_PORT,
# DW_PID, DW_DIR, DW_LOG, DW_CONF (use_dnsward NAME makes it current again
# later).  Counters of what we send to it live in $DW_DIR/sent.udp and
# sent.tcp (files: subshells add to them too).
start_dnsward() {
	local try
	[ -x "$DNSWARD" ] || bail "daemon binary DNSWARD=$DNSWARD executable" \
	    "missing"
	for try in 1 2 3; do
		if start_dnsward_once "$@"; then
			DW_INST_PORT[$DW_NAME]=$DW_PORT
			DW_INST_PID[$DW_NAME]=$DW_PID
			DW_INST_LOG[$DW_NAME]=$DW_LOG
			return 0
		fi
		grep -q 'already in use' "$DW_DIR/stderr" 2>/dev/null || break
		note "dnsward: port $DW_PORT taken meanwhile, trying another"
	done
	sed 's/^/# dnsward stderr: /' "$DW_DIR/stderr"
	bail "dnsward ($1) running and listening within 10 s" "$DW_WHY"
}

start_dnsward_once() {
	local name=$1 threads=$2 n=0 have=0
	shift 2
	DW_NAME=$name
	DW_DIR=$WORK/$name
	rm -rf "$DW_DIR"
	mkdir -p "$DW_DIR"
	pick_port DW_PORT || bail "no free port for dnsward"
	DW_LOG=$DW_DIR/decisions.jsonl
	[ -n "${DW_SINK:-}" ] && DW_LOG=$DW_DIR/stdout
	DW_CONF=$DW_DIR/dnsward.yaml
	write_conf "$DW_CONF" "$DW_PORT" "$threads" "$@"
	: >"$DW_DIR/sent.udp"
	: >"$DW_DIR/sent.tcp"
	"$DNSWARD" -c "$DW_CONF" >"$DW_DIR/stdout" 2>"$DW_DIR/stderr" &
	DW_PID=$!
	track "$DW_PID"
	# Ready when UDP and TCP listen on both addresses (no query needed,
	# so the decision log holds only what the checks send).
	while [ "$n" -lt 100 ]; do
		if ! alive "$DW_PID"; then
			wait_exit "$DW_PID" 1
			DW_WHY="exited with status $WAIT_ST"
			return 1
		fi
		have=$(ss -Hlntu 2>/dev/null | awk -v p=":$DW_PORT" \
		    '$5 ~ p"$" {print $1, $5}' | sort -u | wc -l)
		[ "$have" -ge "${DW_NLISTEN:-4}" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	DW_WHY="$have of ${DW_NLISTEN:-4} sockets listening"
	return 1
}

# use_dnsward NAME: make the instance NAME (started earlier with
# start_dnsward, maybe still running) the current one again, so that
# several instances can be run side by side.
declare -gA DW_INST_PORT DW_INST_PID DW_INST_LOG
use_dnsward() {
	[ -n "${DW_INST_PID[$1]:-}" ] ||
	    bail "use_dnsward: instance '$1' started" "unknown"
	DW_NAME=$1
	DW_DIR=$WORK/$1
	DW_PORT=${DW_INST_PORT[$1]}
	DW_PID=${DW_INST_PID[$1]}
	DW_LOG=${DW_INST_LOG[$1]}
	DW_CONF=$DW_DIR/dnsward.yaml
}

# count_sent udp|tcp N: N more messages sent to the current instance.
count_sent() {
	echo "$2" >>"$DW_DIR/sent.$1"
}

sent_total() {
	cat "$DW_DIR/sent.udp" "$DW_DIR/sent.tcp" | awk '{s += $1} END {print s + 0}'
}

sent_of() {
	awk '{s += $1} END {print s + 0}' "$DW_DIR/sent.$1"
}

# dw_dig ARGS...: dig at the current instance over 127.0.0.1; counted as
# one message (+ignore: a truncated answer is not retried over TCP).
dw_dig() {
	local t=udp a
	for a in "$@"; do
		case "$a" in +tcp | +vc) t=tcp ;; esac
	done
	count_sent "$t" 1
	dig @127.0.0.1 -p "$DW_PORT" +time=2 +tries=1 +ignore "$@" 2>&1
}

# dw_dig6 ARGS...: same over [::1].
dw_dig6() {
	local t=udp a
	for a in "$@"; do
		case "$a" in +tcp | +vc) t=tcp ;; esac
	done
	count_sent "$t" 1
	dig @::1 -p "$DW_PORT" +time=2 +tries=1 +ignore "$@" 2>&1
}

# dw_q NAME TYPE [dwq query options]: one query with dwq; prints its line.
dw_q() {
	local t=udp a
	for a in "$@"; do
		[ "$a" = --tcp ] && t=tcp
	done
	count_sent "$t" 1
	"$DWQ" query 127.0.0.1 "$DW_PORT" "$@"
}

# Answer section without TTLs, sorted: "name class type rdata".
answers() {
	awk '!/^;/ && NF >= 4 { $2 = ""; print }' | sed 's/  */ /g' | sort
}

# Header status ("NOERROR", "NXDOMAIN", ...) of dig's output.
# section NAME: the records of dig's NAME SECTION (ANSWER, AUTHORITY, ...).
section() {
	sed -n "/^;; $1 SECTION:/,/^\$/p" | sed '1d;/^$/d'
}

# dig_ede: dig's first "; EDE: N (Text)" line.
dig_ede() {
	grep '^; EDE:' | head -n 1
}

dig_status() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n 1
}

# Header flags of dig's output ("qr aa rd").
dig_flags() {
	sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' | head -n 1
}

# log_lines FILE: number of lines.
log_lines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# wait_log N: wait (bounded, 5 s) for the current instance's log to hold at
# least N lines; echoes the count it saw.
wait_log() {
	local n=0 c
	while [ "$n" -lt 50 ]; do
		c=$(log_lines "$DW_LOG")
		[ "$c" -ge "$1" ] && break
		sleep 0.1
		n=$((n + 1))
	done
	log_lines "$DW_LOG"
}

# stop_dnsward [SIGNAL]: stop the current instance (SIGTERM by default),
# check it exits 0 within DW_STOP_WAIT seconds (default 5; sanitizer
# builds may need longer to tear down).
stop_dnsward() {
	local sig=${1:-TERM} st secs=${DW_STOP_WAIT:-5}
	kill -"$sig" "$DW_PID" 2>/dev/null
	wait_exit "$DW_PID" $((secs * 10))
	st=$WAIT_ST
	if [ "$st" = running ]; then
		fail "dnsward ($DW_NAME) exits within $secs s of SIG$sig" "exit" \
		    "still running"
		kill -KILL "$DW_PID" 2>/dev/null
		wait_exit "$DW_PID" 20
	else
		check_eq "dnsward ($DW_NAME) exits 0 on SIG$sig" 0 "$st"
	fi
	if grep -q -E 'Sanitizer|runtime error:' "$DW_DIR/stderr" 2>/dev/null
	then
		fail "dnsward ($DW_NAME) ran clean under sanitizers" "no report" \
		    "$(grep -m1 -E 'Sanitizer|runtime error:' "$DW_DIR/stderr")"
	fi
	if [ -s "$DW_DIR/stderr" ]; then
		note "dnsward ($DW_NAME) stderr:"
		head -n 20 "$DW_DIR/stderr" | sed 's/^/#   /'
	fi
}

LOG_FIELDS="query_timestamp srcaddr srcport transport query_name query_type query_class rcode answers firewall_rule_action reason latency_us id"

# check_log: after stop_dnsward, the decision log of the current instance:
# every line strict JSON with the fields, one line per message sent, and
# per transport.
check_log() {
	local out lines sent u t
	if [ ! -f "$DW_LOG" ]; then
		fail "decision log ($DW_NAME) exists" "$DW_LOG" "no file"
		return
	fi
	# shellcheck disable=SC2086
	out=$("$DWQ" jsoncheck "$DW_LOG" $LOG_FIELDS 2>&1)
	check_match "decision log ($DW_NAME) strict JSON with all fields" \
	    "^[0-9]+ lines ok$" "$out"
	lines=$(log_lines "$DW_LOG")
	sent=$(sent_total)
	check_eq "decision log ($DW_NAME) one line per message sent" \
	    "$sent" "$lines"
	u=$("$DWQ" jsonfield "$DW_LOG" transport 2>&1 | grep -c '^UDP$')
	t=$("$DWQ" jsonfield "$DW_LOG" transport 2>&1 | grep -c '^TCP$')
	check_eq "decision log ($DW_NAME) UDP lines = UDP messages sent" \
	    "$(sent_of udp)" "$u"
	check_eq "decision log ($DW_NAME) TCP lines = TCP messages sent" \
	    "$(sent_of tcp)" "$t"
}

# log_rows FIELD...: tab-separated values of FIELDs, one row per log line.
log_rows() {
	local f args=() i=0
	for f in "$@"; do
		"$DWQ" jsonfield "$DW_LOG" "$f" >"$WORK/.col$i" 2>/dev/null
		args+=("$WORK/.col$i")
		i=$((i + 1))
	done
	paste "${args[@]}"
}
