#!/bin/bash
# test_hier.sh -- self-test of tests/integration/hier.sh, the signed DNS
# hierarchy on loopback that the recursion tests resolve through.
#
# This checks the LIBRARY, not dnsward: the servers are asked directly,
# then Debian's Unbound (a bench package, not a test package: without it
# those checks are skipped with a note) is run by hand as a validating
# recursive resolver pointed at the fake root (root hints + trust anchor),
# and what it answers is what dnsward in "resolver.mode: recurse" should
# answer too:
#   www.example.test      secure (AD)        alias/chain: CNAME chains, AD
#   cross.example.test    secure -> insecure.: answer, no AD
#   www.bogus.test        SERVFAIL (tampered A); with +cd the data
#   nosuch.example.test   NXDOMAIN with AD; www AAAA: NODATA with AD
#   privatelink: public recursion answers acct.privatelink (192.0.2.77);
#   a forward zone to the private server answers known (10.0.0.5) and
#   NXDOMAIN for acct.
# Skips (with the reason) where the hierarchy cannot run: not root, port 53
# of 127.53.x.y taken, ldnsutils missing.

. "${SRCDIR:-.}/tests/integration/lib.sh"
. "${SRCDIR:-.}/tests/integration/hier.sh"

if ! hier_can_run; then
	skip "DNS hierarchy on loopback: $HIER_WHY"
	finish
fi

hier_start
note "hierarchy up in $HIER_START_MS ms (slot $HIER_SLOT: root $HIER_ROOT," \
    "private $HIER_PRIVATE)"
ok "hier_start: six NSDs answer their zones' SOA authoritatively"

# ------------------------------------------------- the servers directly

out=$(hier_dig "$HIER_ROOT" +dnssec A "www.$HIER_Z_EXAMPLE")
check_match "root refers $HIER_Z_TLD to ns.$HIER_Z_TLD with DS" \
    "^${HIER_Z_TLD}[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]" \
    "$(printf '%s\n' "$out" | section AUTHORITY)"
check_match "root gives glue ns.$HIER_Z_TLD A $HIER_TLD_ADDR" \
    "ns\\.${HIER_Z_TLD}[[:space:]].*A[[:space:]]+$HIER_TLD_ADDR\$" \
    "$(printf '%s\n' "$out" | section ADDITIONAL)"
out=$(hier_dig "$HIER_ROOT" +dnssec A host.insecure.)
check_nomatch "root refers insecure. without DS" \
    "IN[[:space:]]+DS[[:space:]]" \
    "$(printf '%s\n' "$out" | section AUTHORITY)"
out=$(hier_dig "$HIER_TLD_ADDR" +dnssec A "www.$HIER_Z_BOGUS")
check_match "$HIER_Z_TLD refers $HIER_Z_BOGUS with DS" \
    "^${HIER_Z_BOGUS}[[:space:]].*IN[[:space:]]+DS[[:space:]]" \
    "$(printf '%s\n' "$out" | section AUTHORITY)"
out=$(hier_dig "$HIER_EXAMPLE" +dnssec A "www.$HIER_Z_EXAMPLE")
check_match "$HIER_Z_EXAMPLE serves www A 192.0.2.10 with its RRSIG" \
    "RRSIG[[:space:]]+A 13 3 " "$(printf '%s\n' "$out" | section ANSWER)"
out=$(hier_dig "$HIER_BOGUS" +short A "www.$HIER_Z_BOGUS")
check_eq "$HIER_Z_BOGUS serves the tampered www A" 192.0.2.66 "$out"
out=$(hier_dig "$HIER_INSECURE" +dnssec A host.insecure.)
check_nomatch "insecure. is unsigned" RRSIG "$out"
check_match "insecure. serves host A 192.0.2.40" "192\\.0\\.2\\.40" "$out"
out=$(hier_dig "$HIER_PRIVATE" +short A "known.$HIER_Z_PRIVATE")
check_eq "private server: known.$HIER_Z_PRIVATE A" 10.0.0.5 "$out"
out=$(hier_dig "$HIER_PRIVATE" A "acct.$HIER_Z_PRIVATE" | dig_status)
check_eq "private server: acct.$HIER_Z_PRIVATE NXDOMAIN" NXDOMAIN "$out"
out=$(hier_dig "$HIER_EXAMPLE" +short A "acct.$HIER_Z_PRIVATE")
check_eq "public $HIER_Z_EXAMPLE: acct.$HIER_Z_PRIVATE A" 192.0.2.77 "$out"
check_match "trust anchor file holds the root's DS" \
    "^\\.[[:space:]]+IN DS[[:space:]]+[0-9]+ 13 2 [0-9a-f]{64}\$" \
    "$(cat "$HIER_TA")"
check_match "trust anchor key file holds the root's DNSKEY" \
    "^\\.[[:space:]]+IN[[:space:]]+DNSKEY[[:space:]]+257 3 13 " \
    "$(cat "$HIER_TA_KEY")"
check_match "root hints name a.root-servers. at $HIER_ROOT" \
    "a\\.root-servers\\.[[:space:]].*A[[:space:]]+$HIER_ROOT\$" \
    "$(cat "$HIER_HINTS")"

# ------------------------------------------------ Unbound, validating

# start_unbound NAME ANCHOR-FILE [EXTRA server: LINES] [EXTRA SECTIONS]:
# Unbound in the foreground on 127.0.0.1:UB_PORT.  Sets UB_PORT, UB_PID.
start_unbound() {
	local name=$1 ta=$2 extra=${3:-} sections=${4:-} d _ n
	d=$WORK/$name
	mkdir -p "$d"
	for _ in 1 2 3; do
		pick_port UB_PORT || bail "no free port for unbound"
		cat >"$d/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@$UB_PORT
	port: $UB_PORT
	do-ip6: no
	num-threads: 1
	so-reuseport: no
	outgoing-range: 64
	num-queries-per-thread: 32
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	val-log-level: 2
	ede: yes
	module-config: "validator iterator"
	qname-minimisation: yes
	do-not-query-localhost: no
	trust-anchor-signaling: no
	root-hints: "$HIER_HINTS"
	trust-anchor-file: "$ta"
$([ -n "$HIER_NODEFAULT" ] && printf '\tlocal-zone: "%s" nodefault\n' \
    "$HIER_NODEFAULT")
$extra
remote-control:
	control-enable: no
$sections
EOF
		unbound -d -c "$d/unbound.conf" >"$d/out" 2>&1 &
		UB_PID=$!
		track "$UB_PID"
		n=0
		while [ "$n" -lt 50 ] && alive "$UB_PID"; do
			if dig @127.0.0.1 -p "$UB_PORT" +time=1 +tries=1 \
			    CH TXT version.server 2>/dev/null |
			    grep -q 'status: NOERROR'; then
				return 0
			fi
			sleep 0.1
			n=$((n + 1))
		done
		kill "$UB_PID" 2>/dev/null
		wait_exit "$UB_PID" 30
		grep -q 'already in use' "$d/out" || break
	done
	sed 's/^/# unbound: /' "$d/out"
	bail "unbound ($name) answering on 127.0.0.1:$UB_PORT" "no"
}

stop_unbound() {
	kill -TERM "$UB_PID" 2>/dev/null
	wait_exit "$UB_PID" 50
	if [ "$WAIT_ST" = running ]; then
		kill -KILL "$UB_PID" 2>/dev/null
		wait_exit "$UB_PID" 20
	fi
}

ub_dig() {
	dig @127.0.0.1 -p "$UB_PORT" +time=3 +tries=1 +dnssec "$@" 2>&1
}

# ub_check DESC STATUS AD|noAD NAME TYPE [EXPECTED-ANSWER-REGEX [dig args]]
ub_check() {
	local desc=$1 st=$2 ad=$3 name=$4 type=$5 want=${6:-} out flags
	shift 6 2>/dev/null || shift $#
	out=$(ub_dig "$@" "$type" "$name")
	check_eq "$desc: status" "$st" "$(printf '%s\n' "$out" | dig_status)"
	flags=" $(printf '%s\n' "$out" | dig_flags) "
	case $ad in
	AD) check_match "$desc: AD (validated)" " ad " "$flags" ;;
	noAD) check_nomatch "$desc: no AD (insecure)" " ad " "$flags" ;;
	esac
	[ -n "$want" ] && check_match "$desc: answer" "$want" \
	    "$(printf '%s\n' "$out" | section ANSWER)"
	return 0
}

if ! command -v unbound >/dev/null 2>&1; then
	skip "recursion through the hierarchy: unbound not installed" \
	    "(a bench package: apt-get install unbound)"
else
	start_unbound ub "$HIER_TA"
	note "unbound (DS anchor) on 127.0.0.1:$UB_PORT"
	E=$HIER_Z_EXAMPLE
	ub_check "www.$E A" NOERROR AD "www.$E" A \
	    "www\\.$E.*A[[:space:]]+192\\.0\\.2\\.10"
	ub_check "alias.$E A (CNAME)" NOERROR AD "alias.$E" A \
	    "alias\\.$E.*CNAME[[:space:]]+www\\.$E"
	out=$(ub_dig +nodnssec +short A "chain.$E" | tr '\n' ' ')
	check_eq "chain.$E A: two CNAMEs then the A" \
	    "alias.$E www.$E 192.0.2.10 " "$out"
	ub_check "cross.$E A (secure CNAME into insecure.)" NOERROR noAD \
	    "cross.$E" A "host\\.insecure\\..*A[[:space:]]+192\\.0\\.2\\.40"
	ub_check "host.insecure. A" NOERROR noAD host.insecure. A \
	    "192\\.0\\.2\\.40"
	ub_check "nosuch.insecure. A" NXDOMAIN noAD nosuch.insecure. A
	ub_check "www.$HIER_Z_BOGUS A (tampered)" SERVFAIL - \
	    "www.$HIER_Z_BOGUS" A
	out=$(ub_dig A "www.$HIER_Z_BOGUS")
	note "bogus answer's EDE: $(printf '%s\n' "$out" | dig_ede)"
	ub_check "www.$HIER_Z_BOGUS A +cd" NOERROR noAD \
	    "www.$HIER_Z_BOGUS" A "192\\.0\\.2\\.66" +cd
	ub_check "ok.$HIER_Z_BOGUS A (untampered RRset)" NOERROR AD \
	    "ok.$HIER_Z_BOGUS" A "192\\.0\\.2\\.67"
	ub_check "nosuch.$E A" NXDOMAIN AD "nosuch.$E" A
	ub_check "dangling.$E A (CNAME to NXDOMAIN)" NXDOMAIN AD \
	    "dangling.$E" A "CNAME[[:space:]]+nosuch\\.$E"
	ub_check "www.$E AAAA (NODATA)" NOERROR AD "www.$E" AAAA
	out=$(ub_dig AAAA "www.$E" | section ANSWER)
	check_eq "www.$E AAAA: empty answer" "" "$out"
	ub_check "v6.$E AAAA" NOERROR AD "v6.$E" AAAA "2001:db8::10"
	ub_check "txt.$E TXT" NOERROR AD "txt.$E" TXT '"hello"'
	ub_check "$E MX" NOERROR AD "$E" MX "MX[[:space:]]+10 mail\\.$E"
	ub_check "a.wild.$E A (wildcard)" NOERROR AD "a.wild.$E" A \
	    "192\\.0\\.2\\.50"
	ub_check "www.$HIER_Z_TLD A" NOERROR AD "www.$HIER_Z_TLD" A \
	    "192\\.0\\.2\\.20"
	ub_check "acct.$HIER_Z_PRIVATE A (public view)" NOERROR AD \
	    "acct.$HIER_Z_PRIVATE" A "192\\.0\\.2\\.77"
	ub_check "known.$E A (CNAME into privatelink, public view)" NOERROR \
	    AD "known.$E" A "192\\.0\\.2\\.78"
	check_match "unbound logged the validation failure of www.$HIER_Z_BOGUS" \
	    "validation failure <www\\.$HIER_Z_BOGUS A IN>" "$(cat "$WORK/ub/out")"
	stop_unbound

	# Private Link: a forward zone to the private server (which must
	# also be marked insecure: example.test. is signed and has no
	# delegation for it); the DNSKEY form of the anchor this time.
	start_unbound ubfwd "$HIER_TA_KEY" \
	    "	domain-insecure: \"$HIER_Z_PRIVATE\"" \
	    "forward-zone:
	name: \"$HIER_Z_PRIVATE\"
	forward-addr: $HIER_PRIVATE"
	note "unbound (DNSKEY anchor, forward zone) on 127.0.0.1:$UB_PORT"
	ub_check "fwd: www.$E A (DNSKEY anchor)" NOERROR AD "www.$E" A \
	    "192\\.0\\.2\\.10"
	ub_check "fwd: known.$HIER_Z_PRIVATE A (private)" NOERROR noAD \
	    "known.$HIER_Z_PRIVATE" A "10\\.0\\.0\\.5"
	ub_check "fwd: acct.$HIER_Z_PRIVATE A (not in the private zone)" \
	    NXDOMAIN noAD "acct.$HIER_Z_PRIVATE" A
	ub_check "fwd: known.$E A (public CNAME, private target)" NOERROR \
	    noAD "known.$E" A "10\\.0\\.0\\.5"
	ub_check "fwd: acct.$E A (public CNAME, private NXDOMAIN)" NXDOMAIN \
	    noAD "acct.$E" A "CNAME[[:space:]]+acct\\.$HIER_Z_PRIVATE"
	stop_unbound
fi

# ------------------------------------------------------------ stopping

nsd_pids=$HIER_PIDS
hier_stop
left=""
for p in $nsd_pids; do
	alive "$p" && left="$left $p"
done
check_eq "hier_stop: every NSD gone" "" "$left"
out=$(dig @"$HIER_ROOT" -p 53 +time=1 +tries=1 +norec SOA . 2>&1 |
    dig_status)
check_eq "hier_stop: the root server no longer answers" "" "$out"

finish
