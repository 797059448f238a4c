# hier.sh -- a complete DNS hierarchy on loopback, for recursion tests.
#
# Sourced by an integration test AFTER tests/integration/lib.sh (it uses
# WORK, track/untrack, alive, wait_exit, note).  Builds, signs and serves:
#
#   zone                        address         DNSSEC
#   .                           127.53.1.S      signed (trust anchor)
#   test.                       127.53.2.S      signed, DS in .
#   example.test.               127.53.3.S      signed, DS in test.
#   insecure.                   127.53.4.S      unsigned, no DS in .
#   bogus.test.                 127.53.5.S      signed, DS in test., but
#                                               www's A tampered after signing
#   privatelink.example.test.   127.53.6.S      unsigned, NOT delegated: the
#                                               "private" server of a Private
#                                               Link set-up (forward zone)
#
# S is a slot (1..250) picked at random among those whose six addresses
# can be bound on port 53 (several test runs may share the machine);
# HIER_SLOT=N forces it.  Recursion sends queries to port 53 of the glue
# addresses, so every NSD listens on port 53 of its own address; all of
# 127.0.0.0/8 is loopback on Linux, no interface set-up is needed, and a
# daemon bound to 127.0.0.1:53 only does not conflict.  One on 0.0.0.0:53
# does: hier_can_run says so.
#
# The TLD is "test" (HIER_TLD=xyz before hier_start changes it).  NOTE:
# Unbound and libunbound serve "test." as a default local zone (RFC 6761:
# static, so every name under it is NXDOMAIN) unless told
# `local-zone: "test." nodefault` -- a resolver built on libunbound must
# set that (see HIER_NODEFAULT) or the hierarchy is invisible to it.
#
# Records (TTL $HIER_TTL, 300 by default; negative TTL the same):
#   .                  NS a.root-servers.; a.root-servers. A <root addr>
#   test.              www A 192.0.2.20
#   example.test.      MX 10 mail.example.test.
#                      ns A <addr>   mail A 192.0.2.25
#                      www A 192.0.2.10           (no AAAA: NODATA)
#                      v6 AAAA 2001:db8::10
#                      alias CNAME www.example.test.
#                      chain CNAME alias.example.test.
#                      cross CNAME host.insecure.  (secure -> insecure)
#                      dangling CNAME nosuch.example.test. (-> NXDOMAIN)
#                      txt TXT "hello"
#                      *.wild A 192.0.2.50
#                      acct.privatelink A 192.0.2.77   (public view)
#                      known.privatelink A 192.0.2.78  (public view)
#                      acct CNAME acct.privatelink.example.test.
#                      known CNAME known.privatelink.example.test.
#                      nosuch.example.test: NXDOMAIN (signed NSEC proof)
#   insecure.          host A 192.0.2.40, www A 192.0.2.41
#   bogus.test.        www A 192.0.2.66 (signature made over 192.0.2.65:
#                      validation fails; +cd shows 192.0.2.66)
#                      ok A 192.0.2.67 (valid: only www's RRset is bogus)
#   privatelink.example.test. (private server only)
#                      known A 10.0.0.5   (no "acct": a forward zone to
#                      this server gets NXDOMAIN for acct.privatelink...,
#                      public recursion gets 192.0.2.77)
#   The private zone is unsigned and example.test. is signed without a
#   delegation for it, so a validating resolver forwarding it must also
#   mark it insecure (unbound: domain-insecure), or its answers are bogus.
#
# Functions:
#   hier_can_run   0 if the hierarchy can be started here, else 1 with the
#                  reason in HIER_WHY (tests skip with a visible note)
#   hier_start     build and start everything under $WORK/hier; waits
#                  (bounded) until every server answers its zone's SOA;
#                  on failure calls bail (lib.sh)
#   hier_stop      stop the NSDs it started (by PID) and wait for them
#   hier_dig ADDR ARGS...  dig one of the servers directly (+norec)
#
# Exported after hier_start:
#   HIER_DIR       $WORK/hier
#   HIER_TA        trust anchor file: the root's DS record (zone-file line)
#   HIER_TA_KEY    the same anchor as the root's DNSKEY record
#   HIER_HINTS     root hints file (". NS a.root-servers." + its A)
#   HIER_ROOT HIER_TLD_ADDR HIER_EXAMPLE HIER_INSECURE HIER_BOGUS
#   HIER_PRIVATE   the servers' addresses (port 53)
#   HIER_Z_ROOT HIER_Z_TLD HIER_Z_EXAMPLE HIER_Z_INSECURE HIER_Z_BOGUS
#   HIER_Z_PRIVATE the zone names, with the trailing dot
#   HIER_NODEFAULT the local zone a libunbound resolver must set
#                  "nodefault" ("test." unless HIER_TLD changed it)
#   HIER_PIDS      the NSD PIDs
#   HIER_START_MS  how long hier_start took
#
# Needs: nsd, dig (dnsutils), ldns-keygen/ldns-signzone/ldns-key2ds
# (Debian package ldnsutils), python3 for the bind probe (optional), root.

HIER_TLD=${HIER_TLD:-test}
HIER_TTL=${HIER_TTL:-300}
HIER_PIDS=""
HIER_WHY=""
HIER_SLOT_FORCED=${HIER_SLOT:-}
HIER_SLOT=$HIER_SLOT_FORCED

# hier_addr N [SLOT]: the address of server N (1 root .. 6 private).
hier_addr() {
	echo "127.53.$1.${2:-$HIER_SLOT}"
}

# hier_probe SLOT: can the six addresses of SLOT be bound on port 53, UDP
# and TCP, the way NSD binds them (SO_REUSEADDR on TCP only)?  Prints the
# first failure.
hier_probe() {
	local addrs="" i
	for i in 1 2 3 4 5 6; do
		addrs="$addrs $(hier_addr "$i" "$1")"
	done
	# The system's python3 first: a shim (pyenv) in PATH can cost 0.7 s.
	local py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3) || return 0
	# shellcheck disable=SC2086
	"$py" - $addrs <<'EOF' 2>&1
import socket, sys
for a in sys.argv[1:]:
    for kind, t in (("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)):
        s = socket.socket(socket.AF_INET, t)
        if t == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((a, 53))
            if t == socket.SOCK_STREAM:
                s.listen(1)
        except OSError as e:
            print("%s:53/%s: %s" % (a, kind, e.strerror))
            sys.exit(1)
        finally:
            s.close()
EOF
}

# What else listens on port 53 (for the reason of a failure).
hier_port53_users() {
	ss -Hlnup 'sport = :53' 2>/dev/null | awk '{print "udp", $4, $6}'
	ss -Hlntp 'sport = :53' 2>/dev/null | awk '{print "tcp", $4, $6}'
}

hier_can_run() {
	local c out _ s
	HIER_WHY=""
	if [ "$(id -u)" != 0 ]; then
		HIER_WHY="needs root (NSD must bind port 53 of 127.53.x.y)"
		return 1
	fi
	for c in nsd dig ldns-keygen ldns-signzone ldns-key2ds; do
		if ! command -v "$c" >/dev/null 2>&1; then
			case $c in
			ldns-*) HIER_WHY="$c not installed (apt-get install ldnsutils)" ;;
			*) HIER_WHY="$c not installed" ;;
			esac
			return 1
		fi
	done
	if [ -n "$HIER_SLOT_FORCED" ]; then
		HIER_SLOT=$HIER_SLOT_FORCED
		out=$(hier_probe "$HIER_SLOT") && return 0
	else
		for _ in 1 2 3 4 5; do
			s=$((RANDOM % 250 + 1))
			if out=$(hier_probe "$s"); then
				HIER_SLOT=$s
				return 0
			fi
		done
	fi
	HIER_WHY="cannot bind port 53 on loopback: $out"
	out=$(hier_port53_users | tr '\n' ';')
	[ -n "$out" ] && HIER_WHY="$HIER_WHY (port 53 in use: ${out%;})"
	case $out in
	*" 0.0.0.0:53 "* | *" *:53 "*)
		HIER_WHY="$HIER_WHY; a daemon on 0.0.0.0:53 (a packaged"
		HIER_WHY="$HIER_WHY nsd/unbound/dnsmasq?) blocks 127.53.x.y:53:"
		HIER_WHY="$HIER_WHY stop it or bind it to 127.0.0.1 only" ;;
	esac
	return 1
}

# ---------------------------------------------------------------- zones

hier_soa() {
	# hier_soa NS-NAME: the SOA + NS lines of a zone ($ORIGIN set).
	printf '@\tIN SOA\t%s hostmaster.%s 2026010101 3600 600 86400 %s\n' \
	    "$1" "$1" "$HIER_TTL"
	printf '@\tIN NS\t%s\n' "$1"
}

hier_zones() {
	local d=$HIER_DIR t=$HIER_TLD
	{
		echo "\$ORIGIN ."
		echo "\$TTL $HIER_TTL"
		hier_soa a.root-servers.
		echo "a.root-servers.	IN A	$HIER_ROOT"
		echo "$t.	IN NS	ns.$t."
		echo "ns.$t.	IN A	$HIER_TLD_ADDR"
		echo "insecure.	IN NS	ns.insecure."
		echo "ns.insecure.	IN A	$HIER_INSECURE"
	} >"$d/root/zone"
	{
		echo "\$ORIGIN $t."
		echo "\$TTL $HIER_TTL"
		hier_soa "ns.$t."
		echo "ns	IN A	$HIER_TLD_ADDR"
		echo "www	IN A	192.0.2.20"
		echo "example	IN NS	ns.example"
		echo "ns.example	IN A	$HIER_EXAMPLE"
		echo "bogus	IN NS	ns.bogus"
		echo "ns.bogus	IN A	$HIER_BOGUS"
	} >"$d/tld/zone"
	{
		echo "\$ORIGIN example.$t."
		echo "\$TTL $HIER_TTL"
		hier_soa "ns.example.$t."
		cat <<EOF
@	IN MX	10 mail
ns	IN A	$HIER_EXAMPLE
mail	IN A	192.0.2.25
www	IN A	192.0.2.10
v6	IN AAAA	2001:db8::10
alias	IN CNAME www
chain	IN CNAME alias
cross	IN CNAME host.insecure.
dangling	IN CNAME nosuch
txt	IN TXT	"hello"
*.wild	IN A	192.0.2.50
acct.privatelink	IN A	192.0.2.77
known.privatelink	IN A	192.0.2.78
acct	IN CNAME acct.privatelink
known	IN CNAME known.privatelink
EOF
	} >"$d/example/zone"
	{
		echo "\$ORIGIN insecure."
		echo "\$TTL $HIER_TTL"
		hier_soa ns.insecure.
		echo "ns	IN A	$HIER_INSECURE"
		echo "host	IN A	192.0.2.40"
		echo "www	IN A	192.0.2.41"
	} >"$d/insecure/zone"
	{
		echo "\$ORIGIN bogus.$t."
		echo "\$TTL $HIER_TTL"
		hier_soa "ns.bogus.$t."
		echo "ns	IN A	$HIER_BOGUS"
		echo "www	IN A	192.0.2.65"
		echo "ok	IN A	192.0.2.67"
	} >"$d/bogus/zone"
	{
		echo "\$ORIGIN $HIER_Z_PRIVATE"
		echo "\$TTL $HIER_TTL"
		hier_soa "ns.$HIER_Z_PRIVATE"
		echo "ns	IN A	$HIER_PRIVATE"
		echo "known	IN A	10.0.0.5"
	} >"$d/private/zone"
}

# hier_sign DIR ORIGIN: a single key (CSK, SEP flag) signs DIR/zone into
# DIR/zone.signed, valid from yesterday to 30 days ahead; DIR/ds gets the
# DS (SHA-256) as a zone-file line without TTL, DIR/dnskey the DNSKEY.
hier_sign() {
	local d=$1 o=$2 k out
	k=$(cd "$d" && ldns-keygen -a ECDSAP256SHA256 -k "$o" 2>"$d/keygen.err") ||
	    { HIER_WHY="ldns-keygen $o: $(cat "$d/keygen.err")"; return 1; }
	if ! out=$(cd "$d" && ldns-signzone -i "$HIER_INCEPT" -e "$HIER_EXPIRE" \
	    -o "$o" -f zone.signed zone "$k" 2>&1); then
		HIER_WHY="ldns-signzone $o: $out"
		return 1
	fi
	(cd "$d" && ldns-key2ds -n -2 "$k.key") |
	    awk '{print $1 "\tIN DS\t" $5, $6, $7, $8}' >"$d/ds"
	awk '/[ \t]DNSKEY[ \t]/ {sub(/[ \t]*;.*/, ""); print}' "$d/$k.key" \
	    >"$d/dnskey"
	if [ ! -s "$d/ds" ] || [ ! -s "$d/dnskey" ]; then
		HIER_WHY="ldns-key2ds $o: no DS or DNSKEY"
		return 1
	fi
}

# ----------------------------------------------------------------- NSD

# hier_nsd NAME ADDR ZONE: start NSD for ZONE on ADDR:53 serving
# $HIER_DIR/NAME/zone.signed (or zone).  Sets HIER_PID.
hier_nsd() {
	local d=$HIER_DIR/$1 f=zone
	[ -f "$d/zone.signed" ] && f=zone.signed
	nsd_conf "$d" "$2" 53 "$3" "$f"
	nsd -d -c "$d/nsd.conf" >"$d/nsd.out" 2>&1 &
	HIER_PID=$!
	track "$HIER_PID"
	HIER_PIDS="$HIER_PIDS $HIER_PID"
}

# hier_alive PID: running and not a zombie, without forking ps.
hier_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	read -r st </proc/"$1"/stat 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# hier_dig ADDR ARGS...: ask one server directly.
hier_dig() {
	local a=$1
	shift
	dig @"$a" -p 53 +time=1 +tries=1 +norec "$@" 2>&1
}

# hier_start_once: one attempt with the current slot; 1 on failure (the
# reason in HIER_WHY, the NSDs stopped).
hier_start_once() {
	local d=$HIER_DIR n=0 pending name z a p i
	local -a names=(root tld example insecure bogus private)
	rm -rf "$d"
	mkdir -p "$d"
	for name in "${names[@]}"; do
		mkdir -p "$d/$name"
	done
	HIER_ROOT=$(hier_addr 1)
	HIER_TLD_ADDR=$(hier_addr 2)
	HIER_EXAMPLE=$(hier_addr 3)
	HIER_INSECURE=$(hier_addr 4)
	HIER_BOGUS=$(hier_addr 5)
	HIER_PRIVATE=$(hier_addr 6)
	HIER_INCEPT=$(date -u -d '-1 day' +%Y%m%d%H%M%S)
	HIER_EXPIRE=$(date -u -d '+30 days' +%Y%m%d%H%M%S)
	hier_zones

	# Leaves first: their DS go into the parent before it is signed.
	hier_sign "$d/example" "$HIER_Z_EXAMPLE" || return 1
	hier_sign "$d/bogus" "$HIER_Z_BOGUS" || return 1
	cat "$d/example/ds" "$d/bogus/ds" >>"$d/tld/zone"
	hier_sign "$d/tld" "$HIER_Z_TLD" || return 1
	cat "$d/tld/ds" >>"$d/root/zone"
	hier_sign "$d/root" . || return 1
	# Tamper: www.bogus's A changes after signing; its RRSIG stays.
	awk -v o="www.$HIER_Z_BOGUS" 'BEGIN {OFS = "\t"}
	    $1 == o && $4 == "A" && $5 == "192.0.2.65" {$5 = "192.0.2.66"}
	    {print}' "$d/bogus/zone.signed" >"$d/bogus/zone.tampered" &&
	    mv "$d/bogus/zone.tampered" "$d/bogus/zone.signed"
	grep -q '192\.0\.2\.66$' "$d/bogus/zone.signed" ||
	    { HIER_WHY="tampering www.$HIER_Z_BOGUS in the signed zone"; return 1; }

	cp "$d/root/ds" "$d/root-ds.key"
	cp "$d/root/dnskey" "$d/root-dnskey.key"
	HIER_TA=$d/root-ds.key
	HIER_TA_KEY=$d/root-dnskey.key
	HIER_HINTS=$d/root.hints
	printf '.\t3600000\tIN NS\ta.root-servers.\na.root-servers.\t3600000\tIN A\t%s\n' \
	    "$HIER_ROOT" >"$HIER_HINTS"

	HIER_PIDS=""
	hier_nsd root "$HIER_ROOT" .
	hier_nsd tld "$HIER_TLD_ADDR" "$HIER_Z_TLD"
	hier_nsd example "$HIER_EXAMPLE" "$HIER_Z_EXAMPLE"
	hier_nsd insecure "$HIER_INSECURE" "$HIER_Z_INSECURE"
	hier_nsd bogus "$HIER_BOGUS" "$HIER_Z_BOGUS"
	hier_nsd private "$HIER_PRIVATE" "$HIER_Z_PRIVATE"

	# Bounded wait (5 s) until each answers its zone's SOA, authoritatively.
	pending="0 1 2 3 4 5"
	local -a addrs=("$HIER_ROOT" "$HIER_TLD_ADDR" "$HIER_EXAMPLE" \
	    "$HIER_INSECURE" "$HIER_BOGUS" "$HIER_PRIVATE")
	local -a zones=(. "$HIER_Z_TLD" "$HIER_Z_EXAMPLE" "$HIER_Z_INSECURE" \
	    "$HIER_Z_BOGUS" "$HIER_Z_PRIVATE")
	local -a pids
	read -r -a pids <<<"$HIER_PIDS"
	while [ -n "$pending" ] && [ "$n" -lt 100 ]; do
		local left=""
		for i in $pending; do
			p=${pids[$i]}
			a=${addrs[$i]}
			z=${zones[$i]}
			# "nsd started" in its log first: a dig is dearer.
			grep -q 'nsd started' "$d/${names[$i]}/nsd.log" \
			    2>/dev/null &&
			    hier_dig "$a" SOA "$z" | grep -q 'flags: qr aa' &&
			    continue
			if ! hier_alive "$p"; then
				HIER_WHY="nsd for $z on $a:53 exited: $(tail -n 3 \
				    "$d/${names[$i]}/nsd.log" \
				    "$d/${names[$i]}/nsd.out" 2>/dev/null | tr '\n' ' ')"
				hier_stop
				return 1
			fi
			left="$left $i"
		done
		pending=${left# }
		[ -z "$pending" ] && break
		sleep 0.05
		n=$((n + 1))
	done
	if [ -n "$pending" ]; then
		HIER_WHY="no authoritative SOA within 5 s from:"
		for i in $pending; do
			HIER_WHY="$HIER_WHY ${zones[$i]}@${addrs[$i]}"
		done
		hier_stop
		return 1
	fi
	return 0
}

hier_start() {
	local t0 _ ok=0
	t0=$(now_ms)
	HIER_DIR=$WORK/hier
	HIER_Z_ROOT=.
	HIER_Z_TLD=$HIER_TLD.
	HIER_Z_EXAMPLE=example.$HIER_TLD.
	HIER_Z_INSECURE=insecure.
	HIER_Z_BOGUS=bogus.$HIER_TLD.
	HIER_Z_PRIVATE=privatelink.example.$HIER_TLD.
	HIER_NODEFAULT=""
	case $HIER_TLD in
	test | invalid | onion | localhost) HIER_NODEFAULT=$HIER_TLD. ;;
	esac
	for _ in 1 2 3; do
		hier_can_run || bail "DNS hierarchy can run here" "$HIER_WHY"
		if hier_start_once; then
			ok=1
			break
		fi
		[ -z "$HIER_SLOT_FORCED" ] || break
		# A slot taken between the probe and NSD's bind: another one.
		case $HIER_WHY in
		*"already in use"*) note "hier: slot $HIER_SLOT taken meanwhile" ;;
		*) break ;;
		esac
	done
	[ "$ok" = 1 ] ||
	    bail "DNS hierarchy started (slot $HIER_SLOT)" "$HIER_WHY"
	HIER_START_MS=$(($(now_ms) - t0))
	export HIER_DIR HIER_TA HIER_TA_KEY HIER_HINTS HIER_ROOT HIER_TLD_ADDR \
	    HIER_EXAMPLE HIER_INSECURE HIER_BOGUS HIER_PRIVATE HIER_Z_ROOT \
	    HIER_Z_TLD HIER_Z_EXAMPLE HIER_Z_INSECURE HIER_Z_BOGUS \
	    HIER_Z_PRIVATE HIER_NODEFAULT HIER_SLOT HIER_START_MS
}

# hier_stop: stop our NSDs (SIGTERM by PID, SIGKILL after 3 s), wait for
# each to be gone.
hier_stop() {
	local p
	for p in $HIER_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $HIER_PIDS; do
		wait_exit "$p" 30
		if [ "$WAIT_ST" = running ]; then
			kill -KILL "$p" 2>/dev/null
			wait_exit "$p" 20
		fi
	done
	HIER_PIDS=""
}
