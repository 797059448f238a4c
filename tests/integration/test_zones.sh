# test_zones.sh -- zones: (issue 7): where a name is resolved.
#
#   local zones    records written in the configuration, answered
#                  authoritatively (AA): the RRset, CNAMEs followed inside
#                  the zone and resolved through their own route outside
#                  it, NODATA (also for an empty non-terminal) and NXDOMAIN
#                  with the zone's SOA (synthesized, or the one written)
#   forward zones  asked through dnsward's own forwarder (client's RD), in forward
#                  and in recurse mode; longest match wins; a CNAME chain
#                  that enters a zone is resolved through that zone (the
#                  Azure Private Link pattern), and a zone's CNAME that
#                  leaves it unanswered through its target's route;
#                  on-nxdomain / on-nodata: fallback retries once per visit
#                  of the zone (a chain through two fallback zones falls
#                  back in each; after a hop from a local or forward zone
#                  too) through the default backend or the zone's
#                  fallback: servers; a CNAME answer is no NODATA; a
#                  failing fallback is SERVFAIL, not the zone's NXDOMAIN;
#                  queries for CNAME or ANY are not chased
#   the decision log: "zone", "fallback", "upstream"; no AD on answers made
#   from a zone's data; UDP and TCP; the cache keeps the complete answers
#   (no NXDOMAIN left by a chain or a policy override's chase);
#   dnsward-ctl reload changes zones at once (answers cached under a
#   changed zone go, and so does an answer from the old zones that arrives
#   after the reload); dnsward -t rejects bad zones with FILE:LINE:COL and
#   the message for each, and accepts conf/examples/*.yaml.
#
# Forward mode runs on lib.sh's NSD ("test.", the public view, with names
# under priv.test. and priv2.test.) plus more NSDs on loopback ports
# serving their own "priv.test." (the private view, fewer names; a third
# view for fallback:) and an empty "priv2.test."; tests/tools/slowproxy.py
# delays the default upstream for the reload race.
# Recurse mode runs on hier.sh's signed hierarchy (skipped with the reason
# when it cannot run here), with privatelink.example.dwtest. forwarded to
# its "private" server.
#
# Run as root: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_zones.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"
HIER_TLD=dwtest
. "$SRCDIR/tests/integration/hier.sh"

need dig
CTL=${CTL:-$SRCDIR/src/dnsward-ctl}
[ -x "$CTL" ] || bail "dnsward-ctl CTL=$CTL executable" "missing"
[ -x "$DNSWARD" ] || bail "daemon binary DNSWARD=$DNSWARD executable" "missing"

# ------------------------------------------------------------------ helpers

# got OUT: dig's answer section without TTLs, sorted, one "|" per record
# ("name IN TYPE rdata|...").
got() {
	printf '%s\n' "$1" | section ANSWER | answers | paste -sd'|'
}

# want LINE...: the same shape from the records expected.
want() {
	printf '%s\n' "$@" | sort | paste -sd'|'
}

# soa_of OUT: the SOA of the authority section, without its TTL.
soa_of() {
	printf '%s\n' "$1" | section AUTHORITY |
	    awk '$4 == "SOA" {print $1, $4, $5, $6, $7, $8, $9, $10, $11}'
}

# ttl_of OUT TYPE: the TTL of the first answer record of TYPE.
ttl_of() {
	printf '%s\n' "$1" | section ANSWER | awk -v t="$2" '$4 == t {print $2; exit}'
}

# ancount OUT: records in the answer section.
ancount() {
	printf '%s\n' "$1" | section ANSWER | grep -c .
}

status() {
	printf '%s\n' "$1" | dig_status
}

flags() {
	printf '%s\n' "$1" | dig_flags
}

HAS_AA='(^| )aa( |$)'
HAS_AD='(^| )ad( |$)'

# check_noad DESC OUT: an answer came (QR set) and it has no AD flag (an
# unanswered query must not pass for "no AD").
check_noad() {
	local f
	f=$(flags "$2")
	case " $f " in
	*" qr "*) check_nomatch "$1" "$HAS_AD" "$f" ;;
	*) fail "$1" "an answer without AD" "no answer: $(printf '%s' "$2" |
	    tail -n 3 | tr '\n' '|')" ;;
	esac
}

# logline NAME: the first decision record of query_name NAME (with its
# final dot), after stop_dnsward.
logline() {
	grep -F "\"query_name\":\"$1\"" "$DW_LOG" 2>/dev/null | head -n 1
}

# logline_n NAME N: the Nth decision record of query_name NAME.
logline_n() {
	grep -F "\"query_name\":\"$1\"" "$DW_LOG" 2>/dev/null | sed -n "$2p"
}

# log_count NAME: how many decision records name NAME.
log_count() {
	grep -c -F "\"query_name\":\"$1\"" "$DW_LOG" 2>/dev/null
}

# seen FIELD OUT: FIELD=value from the dwq echo upstream's TXT answer.
seen() {
	printf '%s\n' "$2" | grep -o "\"id=[^\"]*\"" | tr -d '"' |
	    tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# ctl_reload: dnsward-ctl reload on the current instance; CTL_OUT, CTL_ST.
ctl_reload() {
	CTL_OUT=$("$CTL" -s "$DW_DIR/control.sock" reload 2>&1)
	CTL_ST=$?
}

# start_auth NAME ORIGIN: an NSD on 127.0.0.1:<free port> serving ORIGIN
# from $WORK/NAME/zone (written by the caller); waits (bounded, 5 s) for
# its SOA.  Sets AUTH_PORT.
start_auth() {
	local name=$1 origin=$2 d=$WORK/$1 _ n pid
	for _ in 1 2 3; do
		pick_port AUTH_PORT || bail "no free port for nsd ($name)"
		rm -f "$d/nsd.log" "$d/nsd.out"
		nsd_conf "$d" 127.0.0.1 "$AUTH_PORT" "$origin" zone
		nsd -d -c "$d/nsd.conf" >"$d/nsd.out" 2>&1 &
		pid=$!
		track "$pid"
		n=0
		while [ "$n" -lt 50 ] && alive "$pid"; do
			if dig @127.0.0.1 -p "$AUTH_PORT" +time=1 +tries=1 \
			    +norec SOA "$origin" 2>/dev/null |
			    grep -q 'flags: qr aa'; then
				return 0
			fi
			sleep 0.1
			n=$((n + 1))
		done
		kill -TERM "$pid" 2>/dev/null
		wait_exit "$pid" 30
		grep -q 'already in use' "$d/nsd.log" "$d/nsd.out" \
		    2>/dev/null || break
		note "nsd ($name): port $AUTH_PORT taken meanwhile, trying another"
	done
	cat "$d/nsd.out" "$d/nsd.log" 2>/dev/null | sed "s/^/# nsd ($name): /"
	bail "nsd ($name) answering on 127.0.0.1:$AUTH_PORT within 5 s" "no"
}

# The local zones every instance carries; EXT is where ext.corp.internal
# points outside (resolved by the default backend), PRIVT a name in the
# forward zone (resolved through it).
local_zones() {
	cat <<EOF
  - name: corp.internal
    local:
      - "db 300 A 10.1.2.3"
      - "db.corp.internal. 300 AAAA fd00::3"
      - "www CNAME db"
      - "ext CNAME $1"
      - "priv CNAME $2"
      - "lab CNAME h.lab.internal."
      - "_ldap._tcp SRV 0 0 389 db"
      - "a.b.deep TXT \"x\""
  - name: lab.internal
    local:
      - "@ 600 SOA ns.lab.internal. admin.lab.internal. 42 7200 900 604800 120"
      - "h 60 A 10.9.9.9"
EOF
}

CORP_SOA="corp.internal. SOA corp.internal. hostmaster.corp.internal. 1 3600 600 86400 300"
LAB_SOA="lab.internal. SOA ns.lab.internal. admin.lab.internal. 42 7200 900 604800 120"

# local_checks PROTO EXT-TARGET: the local zones' answers (both modes).
local_checks() {
	local p=$1 opt=+notcp out
	[ "$p" = tcp ] && opt=+tcp
	out=$(dw_dig $opt db.corp.internal A)
	check_eq "$p: local A: the record" \
	    "$(want 'db.corp.internal. IN A 10.1.2.3')" "$(got "$out")"
	check_match "$p: local A: authoritative (AA)" "$HAS_AA" "$(flags "$out")"
	check_eq "$p: local A: its TTL (300)" 300 "$(ttl_of "$out" A)"
	out=$(dw_dig $opt db.corp.internal AAAA)
	check_eq "$p: local AAAA written with an absolute owner name" \
	    "$(want 'db.corp.internal. IN AAAA fd00::3')" "$(got "$out")"
	out=$(dw_dig $opt DB.Corp.Internal A)
	check_eq "$p: local: the question's case does not matter" NOERROR/1 \
	    "$(status "$out")/$(ancount "$out")"
	out=$(dw_dig $opt www.corp.internal A)
	check_eq "$p: local CNAME inside the zone followed" \
	    "$(want 'www.corp.internal. IN CNAME db.corp.internal.' \
	    'db.corp.internal. IN A 10.1.2.3')" "$(got "$out")"
	check_eq "$p: local record without a TTL: 3600" 3600 \
	    "$(ttl_of "$out" CNAME)"
	check_match "$p: local CNAME answer: AA" "$HAS_AA" "$(flags "$out")"
	out=$(dw_dig $opt www.corp.internal CNAME)
	check_eq "$p: local CNAME asked as CNAME: the CNAME alone" \
	    "$(want 'www.corp.internal. IN CNAME db.corp.internal.')" \
	    "$(got "$out")"
	out=$(dw_dig $opt _ldap._tcp.corp.internal SRV)
	check_eq "$p: local SRV, target relative to the zone" \
	    "$(want '_ldap._tcp.corp.internal. IN SRV 0 0 389 db.corp.internal.')" \
	    "$(got "$out")"
	out=$(dw_dig $opt a.b.deep.corp.internal TXT)
	check_eq "$p: local TXT" "$(want 'a.b.deep.corp.internal. IN TXT "x"')" \
	    "$(got "$out")"
	out=$(dw_dig $opt db.corp.internal MX)
	check_eq "$p: local name without the type: NODATA" NOERROR/0 \
	    "$(status "$out")/$(ancount "$out")"
	check_eq "$p: local NODATA: synthesized SOA in authority" "$CORP_SOA" \
	    "$(soa_of "$out")"
	check_match "$p: local NODATA: AA" "$HAS_AA" "$(flags "$out")"
	out=$(dw_dig $opt b.deep.corp.internal A)
	check_eq "$p: local empty non-terminal: NODATA" NOERROR/0 \
	    "$(status "$out")/$(ancount "$out")"
	check_eq "$p: local empty non-terminal: SOA" "$CORP_SOA" \
	    "$(soa_of "$out")"
	out=$(dw_dig $opt deep.corp.internal TXT)
	check_eq "$p: local empty non-terminal two levels up: NODATA" \
	    NOERROR/0 "$(status "$out")/$(ancount "$out")"
	out=$(dw_dig $opt nosuch.corp.internal A)
	check_eq "$p: local missing name: NXDOMAIN" NXDOMAIN "$(status "$out")"
	check_eq "$p: local NXDOMAIN: synthesized SOA in authority" \
	    "$CORP_SOA" "$(soa_of "$out")"
	check_match "$p: local NXDOMAIN: AA" "$HAS_AA" "$(flags "$out")"
	out=$(dw_dig $opt x.nosuch.corp.internal A)
	check_eq "$p: local name below a missing one: NXDOMAIN" NXDOMAIN \
	    "$(status "$out")"
	out=$(dw_dig $opt corp.internal SOA)
	check_eq "$p: local apex SOA asked: the synthesized SOA" \
	    "$(want "corp.internal. IN SOA corp.internal. hostmaster.corp.internal. 1 3600 600 86400 300")" \
	    "$(got "$out")"
	out=$(dw_dig $opt corp.internal A)
	check_eq "$p: local apex without A: NODATA" NOERROR/0 \
	    "$(status "$out")/$(ancount "$out")"
	out=$(dw_dig $opt nosuch.lab.internal A)
	check_eq "$p: local zone with its own SOA: NXDOMAIN" NXDOMAIN \
	    "$(status "$out")"
	check_eq "$p: local zone with its own SOA: that SOA in authority" \
	    "$LAB_SOA" "$(soa_of "$out")"
	out=$(dw_dig $opt lab.internal SOA)
	check_eq "$p: local apex SOA written: answered" \
	    "$(want "lab.internal. IN SOA ns.lab.internal. admin.lab.internal. 42 7200 900 604800 120")" \
	    "$(got "$out")"
	out=$(dw_dig $opt lab.corp.internal A)
	check_eq "$p: local CNAME into another local zone followed" \
	    "$(want 'lab.corp.internal. IN CNAME h.lab.internal.' \
	    'h.lab.internal. IN A 10.9.9.9')" "$(got "$out")"
	out=$(dw_dig $opt +dnssec +adflag db.corp.internal A)
	check_noad "$p: local answer to a DO+AD client: no AD" "$out"
	out=$(dw_dig $opt +dnssec +adflag nosuch.corp.internal A)
	check_noad "$p: local NXDOMAIN to a DO+AD client: no AD" "$out"
}

# --- dnsward -t: the shipped examples ---------------------------------------------

EX_DIR=$SRCDIR/conf/examples
for ex in azure-vnet aws-vpc onprem-egress; do
	f=$EX_DIR/$ex.yaml
	if [ ! -f "$f" ]; then
		fail "conf/examples/$ex.yaml exists" "a file" "none"
		continue
	fi
	if grep -Eq '^[[:space:]]*mode:[[:space:]]*recurse' "$f" &&
	    [ ! -r /usr/share/dns/root.hints ]; then
		skip "dnsward -t $ex.yaml: recurse mode needs /usr/share/dns/root.hints (apt-get install dns-root-data)"
		continue
	fi
	out=$(timeout 10 "$DNSWARD" -t -c "$f" 2>&1)
	st=$?
	check_eq "dnsward -t -c conf/examples/$ex.yaml: exit 0" 0 "$st"
	[ "$st" = 0 ] || printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
	check_match "dnsward -t conf/examples/$ex.yaml: configuration OK" \
	    "configuration OK" "$out"
done
for f in "$EX_DIR"/*.yaml; do
	[ -f "$f" ] || continue
	case $(basename "$f") in
	azure-vnet.yaml | aws-vpc.yaml | onprem-egress.yaml) continue ;;
	esac
	out=$(timeout 10 "$DNSWARD" -t -c "$f" 2>&1)
	check_eq "dnsward -t -c conf/examples/$(basename "$f"): exit 0" 0 "$?"
done

# --- dnsward -t: bad zones ----------------------------------------------------------

NBAD=0
# bad_zone DESC LINE MESSAGE-REGEX ZONES-YAML: dnsward -t on a file whose
# zones: section is ZONES-YAML (line 4 is its first line) must exit 1 with
# FILE:LINE:COL (LINE a regex) followed by the message src/config.c (or
# src/zone.c) gives for that case, MESSAGE-REGEX matched from its start:
# naming the zone's key (zones[N].key) and what is wrong with it.  The
# output is shown either way.
bad_zone() {
	local desc=$1 lines=$2 msg=$3 f out st
	NBAD=$((NBAD + 1))
	f=$WORK/badzone$NBAD.yaml
	{
		printf 'server: { listen: ["127.0.0.1:1"], user: root }\n'
		printf 'resolver: { mode: forward, upstreams: ["127.0.0.1:5"] }\n'
		printf 'zones:\n'
		printf '%s\n' "$4"
	} >"$f"
	out=$(timeout 10 "$DNSWARD" -t -c "$f" 2>&1)
	st=$?
	check_eq "-t bad zone ($desc): exit 1" 1 "$st"
	check_match "-t bad zone ($desc): FILE:LINE:COL" \
	    "badzone$NBAD\.yaml:($lines):[0-9]+: " "$out"
	check_match "-t bad zone ($desc): the message at that place" \
	    "badzone$NBAD\.yaml:($lines):[0-9]+: ($msg)" "$out"
	printf '%s\n' "$out" | head -n 3 | while IFS= read -r l; do
		printf '#   -t (%s): %s\n' "$desc" "$l"
	done
}

bad_zone "forward and local" "6" \
    'zones\[0\]\.local: a zone has forward or local, not both$' \
'  - name: corp.internal
    forward: ["127.0.0.1:5"]
    local: ["db A 10.1.2.3"]'
bad_zone "neither forward nor local" "4" \
    'zones\[0\]: needs forward \(servers to ask\) or local \(records to answer\)$' \
'  - name: corp.internal'
bad_zone "record outside the zone" "6" \
    "zones\[0\]\.local\[0\]: owner 'other\.example\.' is not in the zone\$" \
'  - name: corp.internal
    local:
      - "other.example. A 1.2.3.4"'
# (The text after "bad record: " is ldns's.)
bad_zone "record that does not parse" "7" 'zones\[0\]\.local\[1\]: bad record: .' \
'  - name: corp.internal
    local:
      - "db A 10.1.2.3"
      - "db A not-an-ip"'
bad_zone "unknown record type" "6" 'zones\[0\]\.local\[0\]: bad record: .' \
'  - name: corp.internal
    local:
      - "db NOSUCHTYPE 1"'
bad_zone "CNAME beside other data" "7" \
    "zones\[0\]\.local\[1\]: a CNAME cannot be beside other data at 'db\.corp\.internal\.' \(local\[0\]\)\$" \
'  - name: corp.internal
    local:
      - "db A 10.1.2.3"
      - "db CNAME www"'
bad_zone "on-nxdomain: fallback on a local zone" "6" \
    "zones\[0\]\.on-nxdomain: only for a forward zone \(a local zone's answers are final\)\$" \
'  - name: corp.internal
    local: ["db A 10.1.2.3"]
    on-nxdomain: fallback'
bad_zone "on-nodata: fallback on a local zone" "6" \
    "zones\[0\]\.on-nodata: only for a forward zone \(a local zone's answers are final\)\$" \
'  - name: corp.internal
    local: ["db A 10.1.2.3"]
    on-nodata: fallback'
bad_zone "fallback: without on-nxdomain/on-nodata fallback" "6" \
    'zones\[0\]\.fallback: needs on-nxdomain: fallback or on-nodata: fallback$' \
'  - name: priv.test
    forward: ["127.0.0.1:5"]
    fallback: ["127.0.0.1:6"]'
bad_zone "on-nxdomain: a bad value" "6" \
    "zones\[0\]\.on-nxdomain: expected fallback or answer, got 'retry'\$" \
'  - name: priv.test
    forward: ["127.0.0.1:5"]
    on-nxdomain: retry'
bad_zone "duplicate zone names" "6" \
    "zones\[1\]\.name: zone 'corp\.internal' is already declared at line 4\$" \
'  - name: corp.internal
    local: ["db A 10.1.2.3"]
  - name: corp.internal
    forward: ["127.0.0.1:5"]'
bad_zone "duplicate zone names (case, final dot)" "6" \
    "zones\[1\]\.name: zone 'corp\.internal' is already declared at line 4\$" \
'  - name: corp.internal
    local: ["db A 10.1.2.3"]
  - name: Corp.Internal.
    forward: ["127.0.0.1:5"]'
bad_zone "the root as a zone" "4" \
    'zones\[0\]\.name: the root is the default backend \(resolver:\), not a zone$' \
'  - name: "."
    forward: ["127.0.0.1:5"]'
bad_zone "unknown key" "6" "unknown key 'frobnicate' in 'zones\[0\]'\$" \
'  - name: priv.test
    forward: ["127.0.0.1:5"]
    frobnicate: yes'
bad_zone "empty forward list" "5" \
    'zones\[0\]\.forward: at least one address is required$' \
'  - name: priv.test
    forward: []'
addrs=$(seq 1 17 | sed 's/^/"127.0.0.2:/; s/$/"/' | paste -sd, | sed 's/,/, /g')
bad_zone "17 forward servers" "5" 'zones\[0\]\.forward: more than 16 addresses$' \
"  - name: priv.test
    forward: [$addrs]"
bad_zone "bad forward address" "5" \
    "zones\[0\]\.forward: bad address 'not-an-address': ." \
'  - name: priv.test
    forward: ["not-an-address"]'
bad_zone "bad zone name" "4" "zones\[0\]\.name: bad name 'bad\.\.name': ." \
'  - name: "bad..name"
    forward: ["127.0.0.1:5"]'

# --- forward mode: NSDs for the public and two private views --------------------

# Public view (lib.sh's NSD, zone test.): names under priv.test. too.
NSD_EXTRA='acct.priv	IN A	192.0.2.77
known.priv	IN A	192.0.2.78
v6.priv	IN A	192.0.2.79
v6.priv	IN AAAA	2001:db8::79
acct	IN CNAME	acct.priv
known	IN CNAME	known.priv
v6	IN CNAME	v6.priv
tolocal	IN CNAME	db.corp.internal.
hop.priv	IN CNAME	acct.priv2
acct.priv2	IN A	192.0.2.88
twohop	IN CNAME	mid.priv
mid.priv	IN CNAME	acct.priv2
bad	IN A	192.0.2.66
viabad.priv	IN CNAME	bad
viahop	IN CNAME	hop2.priv
hop2.priv	IN CNAME	inner.priv2
inner.priv2	IN A	192.0.2.99
alias.priv	IN A	192.0.2.55'
start_nsd
PUB=127.0.0.1:$NSD_PORT

mkdir -p "$WORK/private" "$WORK/third"
cat >"$WORK/private/zone" <<'EOF'
$ORIGIN priv.test.
$TTL 300
@	IN SOA	ns.priv.test. hostmaster.priv.test. 1 3600 600 86400 300
@	IN NS	ns
ns	IN A	127.0.0.1
known	IN A	10.0.0.5
v6	IN A	10.0.0.6
mid	IN CNAME	acct.priv2.test.
out	IN CNAME	host.test.
alias	IN CNAME	gone
EOF
start_auth private priv.test.
PRIV=127.0.0.1:$AUTH_PORT
PRIV_PORT=$AUTH_PORT
cat >"$WORK/third/zone" <<'EOF'
$ORIGIN priv.test.
$TTL 300
@	IN SOA	ns.priv.test. hostmaster.priv.test. 7 3600 600 86400 300
@	IN NS	ns
ns	IN A	127.0.0.1
acct	IN A	198.51.100.77
known	IN A	198.51.100.78
v6	IN AAAA	2001:db8:3::79
EOF
start_auth third priv.test.
THIRD=127.0.0.1:$AUTH_PORT
# A second private zone, priv2.test., with no names in it (NXDOMAIN for
# all; the public view has acct.priv2.test).
mkdir -p "$WORK/private2"
cat >"$WORK/private2/zone" <<'EOF'
$ORIGIN priv2.test.
$TTL 300
@	IN SOA	ns.priv2.test. hostmaster.priv2.test. 1 3600 600 86400 300
@	IN NS	ns
ns	IN A	127.0.0.1
inner	IN A	10.0.0.9
EOF
start_auth private2 priv2.test.
PRIV2=127.0.0.1:$AUTH_PORT
pick_port DEAD_PORT || bail "no free port for the dead fallback"
DEAD=127.0.0.1:$DEAD_PORT
note "public nsd $PUB, private $PRIV, private2 $PRIV2, third $THIRD, dead $DEAD"

# The views as the NSDs give them (sanity of the set-up, not of dnsward).
out=$(dig @127.0.0.1 -p "$PRIV_PORT" +time=2 +tries=1 acct.priv.test A 2>&1)
check_eq "set-up: private view has no acct.priv.test" NXDOMAIN "$(status "$out")"
out=$(nsd_dig acct.test A)
check_eq "set-up: public view: acct.test CNAME + A" \
    "$(want 'acct.test. IN CNAME acct.priv.test.' 'acct.priv.test. IN A 192.0.2.77')" \
    "$(got "$out")"
out=$(dig @127.0.0.1 -p "${PRIV2##*:}" +time=2 +tries=1 acct.priv2.test A 2>&1)
check_eq "set-up: second private view has no acct.priv2.test" NXDOMAIN \
    "$(status "$out")"
out=$(dig @127.0.0.1 -p "$PRIV_PORT" +time=2 +tries=1 out.priv.test A 2>&1)
check_eq "set-up: private view: out.priv.test is a CNAME out of the zone alone" \
    "NOERROR/$(want 'out.priv.test. IN CNAME host.test.')" \
    "$(status "$out")/$(got "$out")"

# fwd_zones [LINE...]: the zones: section of the forward-mode instances,
# the LINEs added to the priv.test zone.
fwd_zones() {
	echo "zones:"
	echo "  - name: priv.test"
	echo "    forward: [\"$PRIV\"]"
	local l
	for l in "$@"; do
		echo "    $l"
	done
	echo "  - name: local.priv.test"
	echo "    local: [\"x A 10.7.7.7\"]"
	local_zones www.test. known.priv.test.
}

# start_fwd NAME [LINE...]: a forward-mode instance with those zones.
start_fwd() {
	local name=$1
	shift
	DW_EXTRA=$(fwd_zones "$@") DW_CACHE="{ size: off }" \
	    start_dnsward "$name" 1 "$PUB"
}

# --- forward zone without fallback, local zones; UDP and TCP --------------------

start_fwd fz
out=$(timeout 10 "$DNSWARD" -t -c "$DW_CONF" 2>&1)
check_eq "-t accepts this test's zones" 0 "$?"
printf '%s\n' "$out" | head -n 3 | sed 's/^/#   -t: /'

for p in udp tcp; do
	opt=+notcp
	[ "$p" = tcp ] && opt=+tcp
	local_checks "$p"
	out=$(dw_dig $opt ext.corp.internal A)
	check_eq "$p: local CNAME out of the zone resolved by the default upstream" \
	    "$(want 'ext.corp.internal. IN CNAME www.test.' \
	    'www.test. IN CNAME host.test.' 'host.test. IN A 192.0.2.1' \
	    'host.test. IN A 192.0.2.2')" "$(got "$out")"
	out=$(dw_dig $opt priv.corp.internal A)
	check_eq "$p: local CNAME into a forward zone resolved through it" \
	    "$(want 'priv.corp.internal. IN CNAME known.priv.test.' \
	    'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
	out=$(dw_dig $opt tolocal.test A)
	check_eq "$p: upstream CNAME into a local zone answered from it" \
	    "$(want 'tolocal.test. IN CNAME db.corp.internal.' \
	    'db.corp.internal. IN A 10.1.2.3')" "$(got "$out")"
	check_noad "$p: upstream CNAME into a local zone: no AD" \
	    "$(dw_dig $opt +dnssec +adflag tolocal.test A)"

	out=$(dw_dig $opt known.priv.test A)
	check_eq "$p: forward zone: the private answer" \
	    "$(want 'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
	out=$(dw_dig $opt acct.priv.test A)
	check_eq "$p: forward zone, name missing privately, no fallback: NXDOMAIN" \
	    NXDOMAIN "$(status "$out")"
	out=$(dw_dig $opt known.test A)
	check_eq "$p: public CNAME into the forward zone: chain + private A" \
	    "$(want 'known.test. IN CNAME known.priv.test.' \
	    'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
	out=$(dw_dig $opt acct.test A)
	check_eq "$p: public CNAME to a name missing privately: NXDOMAIN" \
	    NXDOMAIN "$(status "$out")"
	check_eq "$p: ... with the CNAME in the answer (no public A)" \
	    "$(want 'acct.test. IN CNAME acct.priv.test.')" "$(got "$out")"
	out=$(dw_dig $opt v6.priv.test AAAA)
	check_eq "$p: forward zone NODATA, no fallback: NODATA" NOERROR/0 \
	    "$(status "$out")/$(ancount "$out")"
	out=$(dw_dig $opt v6.test AAAA)
	check_eq "$p: public CNAME to a private NODATA: the CNAME only" \
	    "NOERROR/$(want 'v6.test. IN CNAME v6.priv.test.')" \
	    "$(status "$out")/$(got "$out")"
	# The private server answers out.priv.test with its CNAME to
	# host.test. alone: the chain leaves the zone without an answer for
	# its target, which is then resolved through its own route (the
	# default upstream), as a local zone's CNAME out of the zone is.
	out=$(dw_dig $opt out.priv.test A)
	check_eq "$p: forward zone CNAME out of the zone: followed to the default upstream" \
	    "NOERROR/$(want 'out.priv.test. IN CNAME host.test.' \
	    'host.test. IN A 192.0.2.1' 'host.test. IN A 192.0.2.2')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt x.local.priv.test A)
	check_eq "$p: longest match: local zone inside the forward zone" \
	    "$(want 'x.local.priv.test. IN A 10.7.7.7')" "$(got "$out")"
	out=$(dw_dig $opt nosuch.local.priv.test A)
	check_eq "$p: longest match: NXDOMAIN from the inner local zone" \
	    "NXDOMAIN/local.priv.test. SOA local.priv.test. hostmaster.local.priv.test. 1 3600 600 86400 300" \
	    "$(status "$out")/$(soa_of "$out")"
	out=$(dw_dig $opt host.test A)
	check_eq "$p: a name in no zone: the default upstream" \
	    "$(want 'host.test. IN A 192.0.2.1' 'host.test. IN A 192.0.2.2')" \
	    "$(got "$out")"
	out=$(dw_dig $opt privx.test A)
	check_eq "$p: a name sharing the zone's suffix text (privx.test) is not in it" \
	    NXDOMAIN "$(status "$out")"
done

stop_dnsward TERM
check_log
l=$(logline known.priv.test.)
check_match "log: forward zone query has \"zone\":\"priv.test\"" \
    '"zone":"priv\.test"' "$l"
check_match "log: forward zone query: upstream is the zone's server" \
    "\"upstream\":\"$PRIV\"" "$l"
check_nomatch "log: no fallback: no \"fallback\" field" '"fallback"' "$l"
check_match "log: public CNAME into the zone: \"zone\" named" \
    '"zone":"priv\.test"' "$(logline known.test.)"
check_match "log: public CNAME into the zone: upstream is the zone's server" \
    "\"upstream\":\"$PRIV\"" "$(logline known.test.)"
check_match "log: local zone query has \"zone\":\"corp.internal\"" \
    '"zone":"corp\.internal"' "$(logline db.corp.internal.)"
check_match "log: inner local zone wins in the log too" \
    '"zone":"local\.priv\.test"' "$(logline x.local.priv.test.)"
l=$(logline host.test.)
check_nomatch "log: a name in no zone: no \"zone\" field" '"zone"' "$l"
check_match "log: a name in no zone: the default upstream" \
    "\"upstream\":\"$PUB\"" "$l"

# --- on-nxdomain + on-nodata: fallback to the default upstream --------------------

start_fwd fb "on-nxdomain: fallback" "on-nodata: fallback"
for p in udp tcp; do
	opt=+notcp
	[ "$p" = tcp ] && opt=+tcp
	out=$(dw_dig $opt acct.priv.test A)
	check_eq "$p: fallback: name missing privately: the public answer" \
	    "NOERROR/$(want 'acct.priv.test. IN A 192.0.2.77')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt acct.test A)
	check_eq "$p: fallback: public CNAME to a name missing privately: public chain" \
	    "NOERROR/$(want 'acct.test. IN CNAME acct.priv.test.' \
	    'acct.priv.test. IN A 192.0.2.77')" "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt known.priv.test A)
	check_eq "$p: fallback zone: a name present privately: the private answer" \
	    "$(want 'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
	out=$(dw_dig $opt known.test A)
	check_eq "$p: fallback zone: public CNAME to a private name: private A" \
	    "$(want 'known.test. IN CNAME known.priv.test.' \
	    'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
	out=$(dw_dig $opt v6.priv.test AAAA)
	check_eq "$p: on-nodata fallback: the public AAAA" \
	    "$(want 'v6.priv.test. IN AAAA 2001:db8::79')" "$(got "$out")"
	out=$(dw_dig $opt v6.test AAAA)
	check_eq "$p: on-nodata fallback through a public CNAME: chain + public AAAA" \
	    "$(want 'v6.test. IN CNAME v6.priv.test.' \
	    'v6.priv.test. IN AAAA 2001:db8::79')" "$(got "$out")"
	out=$(dw_dig $opt v6.priv.test A)
	check_eq "$p: fallback zone: the private A of the same name" \
	    "$(want 'v6.priv.test. IN A 10.0.0.6')" "$(got "$out")"
	# A CNAME is an answer, not NODATA: no fallback; its target (out
	# of the zone) is resolved through its own route.
	out=$(dw_dig $opt out.priv.test A)
	check_eq "$p: on-nodata fallback zone, private CNAME out of the zone: CNAME + target's A" \
	    "NOERROR/$(want 'out.priv.test. IN CNAME host.test.' \
	    'host.test. IN A 192.0.2.1' 'host.test. IN A 192.0.2.2')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt nosuch.priv.test A)
	check_eq "$p: fallback: missing in both views: NXDOMAIN" NXDOMAIN \
	    "$(status "$out")"
done
stop_dnsward TERM
check_log
l=$(logline acct.priv.test.)
check_match "log: fallback answer has \"fallback\":true" '"fallback":true' "$l"
check_match "log: fallback answer: upstream is the default upstream" \
    "\"upstream\":\"$PUB\"" "$l"
check_match "log: fallback answer: still \"zone\":\"priv.test\"" \
    '"zone":"priv\.test"' "$l"
check_match "log: fallback through a CNAME: \"fallback\":true" \
    '"fallback":true' "$(logline acct.test.)"
check_match "log: on-nodata fallback: \"fallback\":true" '"fallback":true' \
    "$(logline v6.priv.test.)"
l=$(logline known.priv.test.)
check_nomatch "log: private answer in a fallback zone: no \"fallback\" field" \
    '"fallback"' "$l"
check_nomatch "log: private CNAME out of an on-nodata fallback zone: no fallback taken" \
    '"fallback":true' "$(logline out.priv.test.)"
check_match "log: private answer: upstream is the zone's server" \
    "\"upstream\":\"$PRIV\"" "$l"

# --- on-nodata only ------------------------------------------------------------------

start_fwd fnd "on-nodata: fallback"
out=$(dw_dig acct.priv.test A)
check_eq "on-nodata only: a missing name stays NXDOMAIN" NXDOMAIN \
    "$(status "$out")"
out=$(dw_dig v6.priv.test AAAA)
check_eq "on-nodata only: NODATA falls back to the public AAAA" \
    "$(want 'v6.priv.test. IN AAAA 2001:db8::79')" "$(got "$out")"
out=$(dw_dig +tcp v6.priv.test AAAA)
check_eq "on-nodata only (TCP): the public AAAA" \
    "$(want 'v6.priv.test. IN AAAA 2001:db8::79')" "$(got "$out")"
out=$(dw_dig out.priv.test A)
check_eq "on-nodata only: a private CNAME out of the zone is no NODATA: CNAME + target's A" \
    "NOERROR/$(want 'out.priv.test. IN CNAME host.test.' \
    'host.test. IN A 192.0.2.1' 'host.test. IN A 192.0.2.2')" \
    "$(status "$out")/$(got "$out")"
stop_dnsward TERM
check_log
check_nomatch "log: on-nodata only, private CNAME out of the zone: no fallback taken" \
    '"fallback":true' "$(logline out.priv.test.)"

# --- fallback: [third server] ----------------------------------------------------------

start_fwd f3 "on-nxdomain: fallback" "on-nodata: fallback" \
    "fallback: [\"$THIRD\"]"
out=$(dw_dig acct.priv.test A)
check_eq "fallback: [third]: the third server's answer" \
    "$(want 'acct.priv.test. IN A 198.51.100.77')" "$(got "$out")"
out=$(dw_dig +tcp acct.priv.test A)
check_eq "fallback: [third] (TCP): the third server's answer" \
    "$(want 'acct.priv.test. IN A 198.51.100.77')" "$(got "$out")"
out=$(dw_dig v6.priv.test AAAA)
check_eq "fallback: [third], on-nodata: the third server's AAAA" \
    "$(want 'v6.priv.test. IN AAAA 2001:db8:3::79')" "$(got "$out")"
out=$(dw_dig known.priv.test A)
check_eq "fallback: [third]: the zone's own server is still asked first" \
    "$(want 'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
# A CNAME chain from the default upstream into the zone: with fallback
# servers, they are asked for the name and their answer is joined.
out=$(dw_dig acct.test A)
check_eq "fallback: [third], via a public CNAME: the third server's answer joined" \
    "$(want 'acct.test. IN CNAME acct.priv.test.' 'acct.priv.test. IN A 198.51.100.77')" \
    "$(got "$out")"
stop_dnsward TERM
check_log
l=$(logline acct.priv.test.)
check_match "log: fallback: [third]: upstream is the third server" \
    "\"upstream\":\"$THIRD\"" "$l"
check_match "log: fallback: [third]: \"fallback\":true" '"fallback":true' "$l"

# --- a fallback that fails; a fallback that says NXDOMAIN again ----------------------

start_fwd fdead "on-nxdomain: fallback" "fallback: [\"$DEAD\"]"
out=$(dw_dig acct.priv.test A)
check_eq "fallback servers unreachable: SERVFAIL (not the zone's NXDOMAIN)" \
    SERVFAIL "$(status "$out")"
out=$(dw_dig +tcp acct.priv.test A)
check_eq "fallback servers unreachable (TCP): SERVFAIL" SERVFAIL \
    "$(status "$out")"
out=$(dw_dig known.priv.test A)
check_eq "fallback servers unreachable: private names still answered" \
    "$(want 'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
stop_dnsward TERM
check_log
l=$(logline acct.priv.test.)
check_match "log: failed fallback: SERVFAIL, \"fallback\":true" \
    '"rcode":"SERVFAIL".*"fallback":true' "$l"
check_match "log: failed fallback: upstream is the last one asked (the dead one)" \
    "\"upstream\":\"$DEAD\"" "$l"

start_fwd floop "on-nxdomain: fallback" "fallback: [\"$PRIV\"]"
t0=$(now_ms)
out=$(dw_dig acct.priv.test A)
t1=$(now_ms)
check_eq "fallback to a server that says NXDOMAIN too: NXDOMAIN" NXDOMAIN \
    "$(status "$out")"
check_le "... answered at once (one fallback, no loop)" $((t1 - t0)) 1500
out=$(dw_dig acct.test A)
check_eq "... the same through a public CNAME: NXDOMAIN" NXDOMAIN \
    "$(status "$out")"
stop_dnsward TERM
check_log
check_eq "loop guard: one decision record for the query" 1 \
    "$(log_count acct.priv.test.)"

# --- CNAME hops across zones, with fallback at each ----------------------------------
#
# priv.test. and priv2.test. both fall back on NXDOMAIN.  The private views
# lack acct.priv.test / acct.priv2.test (the public view has them, and
# hop.priv.test CNAME acct.priv2.test, twohop.test CNAME mid.priv.test);
# privately, mid.priv.test CNAME acct.priv2.test.  A fallback is taken once
# per visit of a zone: a chain that falls back in one zone and moves on to
# another still gets that zone's fallback.

# hop_zones: the zones: section of the hop instances.
hop_zones() {
	cat <<EOF
zones:
  - name: priv.test
    forward: ["$PRIV"]
    on-nxdomain: fallback
  - name: priv2.test
    forward: ["$PRIV2"]
    on-nxdomain: fallback
  - name: corp.internal
    local:
      - "p CNAME acct.priv.test."
      - "ext CNAME nosuch.test."
EOF
}

# hop_checks PROTO: chains through fallback zones (the instance is new:
# nothing of it cached before).
hop_checks() {
	local p=$1 opt=+notcp out
	[ "$p" = tcp ] && opt=+tcp
	out=$(dw_dig $opt p.corp.internal A)
	check_eq "$p: hop: local CNAME into a fallback zone missing the name: CNAME + public A" \
	    "NOERROR/$(want 'p.corp.internal. IN CNAME acct.priv.test.' \
	    'acct.priv.test. IN A 192.0.2.77')" "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt twohop.test A)
	check_eq "$p: hop: default -> priv.test (CNAME) -> priv2.test NXDOMAIN, fallback: chain + public A" \
	    "NOERROR/$(want 'twohop.test. IN CNAME mid.priv.test.' \
	    'mid.priv.test. IN CNAME acct.priv2.test.' \
	    'acct.priv2.test. IN A 192.0.2.88')" "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt hop.priv.test A)
	check_eq "$p: hop: priv.test fallback, then priv2.test fallback (once per zone): chain + public A" \
	    "NOERROR/$(want 'hop.priv.test. IN CNAME acct.priv2.test.' \
	    'acct.priv2.test. IN A 192.0.2.88')" "$(status "$out")/$(got "$out")"
	# A query for CNAME (or ANY) wants the alias itself: not chased,
	# whatever its target's zone would say.
	out=$(dw_dig $opt ext.corp.internal CNAME)
	check_eq "$p: hop: qtype CNAME, local CNAME to a missing name: NOERROR, the CNAME alone" \
	    "NOERROR/$(want 'ext.corp.internal. IN CNAME nosuch.test.')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt ext.corp.internal ANY)
	check_eq "$p: hop: qtype ANY, local CNAME to a missing name: NOERROR, the CNAME alone" \
	    "NOERROR/$(want 'ext.corp.internal. IN CNAME nosuch.test.')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt p.corp.internal CNAME)
	check_eq "$p: hop: qtype CNAME, local CNAME into a fallback zone: the CNAME alone" \
	    "NOERROR/$(want 'p.corp.internal. IN CNAME acct.priv.test.')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt mid.priv.test CNAME)
	check_eq "$p: hop: qtype CNAME, forward zone CNAME into another zone: the CNAME alone" \
	    "NOERROR/$(want 'mid.priv.test. IN CNAME acct.priv2.test.')" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt twohop.test CNAME)
	check_eq "$p: hop: qtype CNAME, public CNAME into a zone: the CNAME alone" \
	    "NOERROR/$(want 'twohop.test. IN CNAME mid.priv.test.')" \
	    "$(status "$out")/$(got "$out")"
	# The public chain enters priv.test (which lacks hop2: fallback),
	# then priv2.test, whose private record must win over the public one.
	out=$(dw_dig $opt viahop.test A)
	check_eq "$p: hop: fallback in one zone does not skip a zone further down the chain" \
	    "NOERROR/$(want 'viahop.test. IN CNAME hop2.priv.test.' \
	    'hop2.priv.test. IN CNAME inner.priv2.test.' \
	    'inner.priv2.test. IN A 10.0.0.9')" "$(status "$out")/$(got "$out")"
	# A zone that answers with an alias knows the name: its NXDOMAIN
	# (for the alias's target) is no reason to fall back (RFC 6604).
	out=$(dw_dig $opt alias.priv.test A)
	check_eq "$p: hop: NXDOMAIN at the end of a zone's own alias: no fallback" \
	    "NXDOMAIN/$(want 'alias.priv.test. IN CNAME gone.priv.test.')" \
	    "$(status "$out")/$(got "$out")"
}

DW_EXTRA=$(hop_zones) DW_CACHE="{ size: off }" start_dnsward hz 1 "$PUB"
hop_checks udp
hop_checks tcp
out=$(dw_dig acct.priv2.test A)
check_eq "hop: (the second zone alone falls back too)" \
    "NOERROR/$(want 'acct.priv2.test. IN A 192.0.2.88')" \
    "$(status "$out")/$(got "$out")"
stop_dnsward TERM
check_log
check_match "log: hop: local CNAME into a fallback zone: \"fallback\":true" \
    '"fallback":true' "$(logline p.corp.internal.)"
check_match "log: hop: fallback in both zones: NOERROR, \"fallback\":true" \
    '"rcode":"NOERROR".*"fallback":true' "$(logline hop.priv.test.)"

# The same with the cache on: the complete answers are what is kept.
DW_EXTRA=$(hop_zones) start_dnsward hzc 1 "$PUB"	# cache on
for i in 1 2; do
	out=$(dw_dig p.corp.internal A)
	check_eq "cache on: hop: local CNAME into a fallback zone (query $i): CNAME + public A" \
	    "NOERROR/$(want 'p.corp.internal. IN CNAME acct.priv.test.' \
	    'acct.priv.test. IN A 192.0.2.77')" "$(status "$out")/$(got "$out")"
done
for i in 1 2; do
	out=$(dw_dig twohop.test A)
	check_eq "cache on: hop: default -> priv.test -> priv2.test fallback (query $i): chain + public A" \
	    "NOERROR/$(want 'twohop.test. IN CNAME mid.priv.test.' \
	    'mid.priv.test. IN CNAME acct.priv2.test.' \
	    'acct.priv2.test. IN A 192.0.2.88')" "$(status "$out")/$(got "$out")"
done
for i in 1 2; do
	out=$(dw_dig hop.priv.test A)
	check_eq "cache on: hop: fallback in both zones (query $i): chain + public A, not a cached NXDOMAIN" \
	    "NOERROR/$(want 'hop.priv.test. IN CNAME acct.priv2.test.' \
	    'acct.priv2.test. IN A 192.0.2.88')" "$(status "$out")/$(got "$out")"
done
# Asked directly after the chains through them: nothing the chains left
# in the cache stands in for these names' own answers.
out=$(dw_dig acct.priv2.test A)
check_eq "cache on: hop: acct.priv2.test asked after the chains: the public A" \
    "NOERROR/$(want 'acct.priv2.test. IN A 192.0.2.88')" \
    "$(status "$out")/$(got "$out")"
out=$(dw_dig acct.priv.test A)
check_eq "cache on: hop: acct.priv.test asked after the chains: the public A" \
    "NOERROR/$(want 'acct.priv.test. IN A 192.0.2.77')" \
    "$(status "$out")/$(got "$out")"
stop_dnsward TERM
check_log
check_match "log: cache on: hop: the second twohop.test is a cache hit" \
    '"rcode":"NOERROR".*"cache":"hit"' "$(logline_n twohop.test. 2)"
note "cache on: hop.priv.test, second query: $(logline_n hop.priv.test. 2 |
    grep -o '"rcode":"[A-Z]*"\|"cache":"[a-z]*"' | paste -sd' ')"

# A policy CNAME override chased after a fallback: viabad.priv.test is
# missing privately, the public view says CNAME bad.test, which the policy
# rewrites to acct.priv2.test (missing privately too: fallback).  That
# chase must not leave priv2.test's NXDOMAIN cached for acct.priv2.test.
mkdir -p "$WORK/hopfeeds"
echo "bad.test" >"$WORK/hopfeeds/phish.txt"
DW_EXTRA="$(hop_zones)
feeds:
  - { id: phishing, path: $WORK/hopfeeds/phish.txt, format: plain }
policy:
  default: allow
  groups:
    - name: g
      priority: 1
      rules:
        - { name: sink, priority: 1, match: { feed: phishing }, action: block, response: { override: { cname: acct.priv2.test, ttl: 60 } } }" \
    start_dnsward hzp 1 "$PUB"	# cache on
out=$(dw_dig viabad.priv.test A)
note "override after a fallback: viabad.priv.test A: $(status "$out") $(got "$out")"
out=$(dw_dig acct.priv2.test A)
check_eq "cache on: override target chased after a fallback, later asked directly: the public A" \
    "NOERROR/$(want 'acct.priv2.test. IN A 192.0.2.88')" \
    "$(status "$out")/$(got "$out")"
out=$(dw_dig acct.priv2.test A)
check_eq "cache on: ... and again (what was cached for it)" \
    "NOERROR/$(want 'acct.priv2.test. IN A 192.0.2.88')" \
    "$(status "$out")/$(got "$out")"
stop_dnsward TERM
check_log

# --- reload: zones change at once ------------------------------------------------------

# rl_conf DB-ADDR [with-priv]: the reload instance's zones.
rl_zones() {
	echo "zones:"
	echo "  - name: corp.internal"
	echo "    local: [\"db 300 A $1\", \"www CNAME db\"]"
	if [ "${2:-}" = with-priv ]; then
		echo "  - name: priv.test"
		echo "    forward: [\"$PRIV\"]"
	fi
}
DW_EXTRA=$(rl_zones 10.1.2.3) start_dnsward rl 1 "$PUB"	# cache on
check_eq "reload: before: the local record" \
    "$(want 'db.corp.internal. IN A 10.1.2.3')" "$(got "$(dw_dig db.corp.internal A)")"
check_eq "reload: before: acct.priv.test from the public view (now cached)" \
    "$(want 'acct.priv.test. IN A 192.0.2.77')" \
    "$(got "$(dw_dig acct.priv.test A)")"
dw_dig acct.priv.test A >/dev/null
# ups_queries ADDR: the queries dnsward-ctl status counts for an upstream
# (empty when it is not listed).
ups_queries() {
	"$CTL" -s "$DW_DIR/control.sock" status 2>/dev/null |
	    sed -n "s/^upstream $1: .* \([0-9][0-9]*\) queries,.*/\1/p"
}
pub_before=$(ups_queries "$PUB")
check_ge "status: the default upstream counts its queries" "${pub_before:-0}" 1
check_eq "status: no zone server listed before the zone exists" "" \
    "$(ups_queries "$PRIV")"
DW_EXTRA=$(rl_zones 10.1.2.4 with-priv) write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "reload: dnsward-ctl reload with changed zones: exit 0" 0 "$CTL_ST"
[ "$CTL_ST" = 0 ] || note "ctl reload said: $CTL_OUT"
check_eq "reload: the changed local record served at once" \
    "$(want 'db.corp.internal. IN A 10.1.2.4')" \
    "$(got "$(dw_dig db.corp.internal A)")"
check_eq "reload: ... over TCP too" "$(want 'db.corp.internal. IN A 10.1.2.4')" \
    "$(got "$(dw_dig +tcp db.corp.internal A)")"
out=$(dw_dig acct.priv.test A)
check_eq "reload: a new forward zone applies at once (cached public answer gone)" \
    NXDOMAIN "$(status "$out")"
check_eq "reload: the new forward zone's private answer" \
    "$(want 'known.priv.test. IN A 10.0.0.5')" \
    "$(got "$(dw_dig known.priv.test A)")"
dw_dig known.priv.test A >/dev/null
check_eq "status: the zone's server listed with its own queries" 2 \
    "$(ups_queries "$PRIV")"
st=$("$CTL" -s "$DW_DIR/control.sock" status)
check_match "status: each zone in a line (local)" \
    '^zone corp\.internal: local \(2 records\)$' "$st"
check_match "status: each zone in a line (forward)" \
    "^zone priv\.test: forward to $PRIV\$" "$st"
out=$("$CTL" -s "$DW_DIR/control.sock" explain known.priv.test)
check_match "explain: names the forward zone a name is resolved by" \
    "resolved by zone 'priv\.test': forward to $PRIV" "$out"
out=$("$CTL" -s "$DW_DIR/control.sock" explain db.corp.internal)
check_match "explain: names the local zone" \
    "answered by zone 'corp\.internal': local \(2 records\)" "$out"
out=$("$CTL" -s "$DW_DIR/control.sock" explain example.org)
check_match "explain: a name in no zone: the default backend" \
    "resolved by the default backend: forward to $PUB" "$out"
out=$("$DNSWARD" -c "$DW_CONF" --explain known.priv.test 2>&1)
check_match "--explain (offline) names the zone too" \
    "resolved by zone 'priv\.test'" "$out"
check_eq "status: the default upstream's count survives the reload" \
    "$pub_before" "$(ups_queries "$PUB")"
check_match "status: the zone server up, with an RTT" \
    "^upstream $PRIV: up, srtt [0-9]" \
    "$("$CTL" -s "$DW_DIR/control.sock" status | grep "^upstream $PRIV:")"

DW_EXTRA="zones:
  - name: corp.internal
    local: [\"db 300 A not-an-ip\"]" write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "reload: a bad zone record: exit 1" 1 "$CTL_ST"
check_match "reload: a bad zone record: FILE:LINE:COL" 'dnsward\.yaml:[0-9]+:[0-9]+:' \
    "$CTL_OUT"
check_eq "reload: a failed reload keeps the zones in force" \
    "$(want 'db.corp.internal. IN A 10.1.2.4')" \
    "$(got "$(dw_dig db.corp.internal A)")"

DW_EXTRA=$(rl_zones 10.1.2.5) write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "reload: zone removed: exit 0" 0 "$CTL_ST"
check_eq "reload: removed forward zone: the public answer again" \
    "$(want 'acct.priv.test. IN A 192.0.2.77')" \
    "$(got "$(dw_dig acct.priv.test A)")"
check_eq "reload: removed forward zone: its cached private answer gone" \
    "$(want 'known.priv.test. IN A 192.0.2.78')" \
    "$(got "$(dw_dig known.priv.test A)")"
check_eq "reload: third local version" "$(want 'db.corp.internal. IN A 10.1.2.5')" \
    "$(got "$(dw_dig db.corp.internal A)")"
check_eq "status: a removed zone's server is no longer listed" "" \
    "$(ups_queries "$PRIV")"
check_ge "status: the default upstream keeps counting" \
    "$(ups_queries "$PUB")" $((pub_before + 2))

# --- upstream slots: full table, a slot handed to a new address ---------------------

# dummy_zones FIRST COUNT: zones d<k>.test forwarding to COUNT addresses
# 127.0.2.FIRST.. (16 a zone; nothing is asked there).
dummy_zones() {
	local i k=0 n=0 line=
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		line="$line${line:+, }\"127.0.2.$i\""
		n=$((n + 1))
		if [ $n = 16 ] || [ "$i" = $(($1 + $2 - 1)) ]; then
			k=$((k + 1))
			printf '  - name: d%s-%s.test\n    forward: [%s]\n' "$k" "$1" "$line"
			line= n=0
		fi
	done
}
# 1 (PUB) + 1 (PRIV) + 125 = 127 addresses: every slot but recursion's.
DW_EXTRA="zones:
  - name: priv.test
    forward: [\"$PRIV\"]
$(dummy_zones 1 125)"
write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "slots: 127 distinct server addresses: reload accepted" 0 "$CTL_ST"
[ "$CTL_ST" = 0 ] || note "ctl reload said: $CTL_OUT"
dw_dig known.priv.test A >/dev/null
dw_dig x1.priv.test A >/dev/null
priv_n=$(ups_queries "$PRIV")
check_ge "slots: the zone server counted" "${priv_n:-0}" 2
check_eq "slots: status lists all 127" 127 \
    "$("$CTL" -s "$DW_DIR/control.sock" status | grep -c '^upstream ')"
# One more distinct address than there are slots.
DW_EXTRA="zones:
  - name: priv.test
    forward: [\"$PRIV\"]
  - name: third.test
    forward: [\"$THIRD\"]
$(dummy_zones 1 125)"
write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "slots: 128 distinct addresses in one configuration: reload refused" 1 \
    "$CTL_ST"
check_match "slots: ... saying why" 'more than 127 distinct upstream' "$CTL_OUT"
check_eq "slots: ... the zones in force stay" "$priv_n" "$(ups_queries "$PRIV")"
# Without PRIV: THIRD takes the slot PRIV had; its counts start at 0.
DW_EXTRA="zones:
  - name: third.test
    forward: [\"$THIRD\"]
$(dummy_zones 1 125)"
write_conf "$DW_CONF" "$DW_PORT" 1 "$PUB"
ctl_reload
check_eq "slots: a new address when the table is full: reload accepted" 0 \
    "$CTL_ST"
check_eq "slots: the new address starts at 0 queries (not the old one's)" 0 \
    "$(ups_queries "$THIRD")"
dw_dig x.third.test A >/dev/null
check_eq "slots: ... and counts its own" 1 "$(ups_queries "$THIRD")"
stop_dnsward TERM
check_log
# The flushes above are only shown if those answers were cached.
check_match "reload: (the public acct.priv.test was a cache hit before)" \
    '"rcode":"NOERROR".*"cache":"hit"' "$(logline_n acct.priv.test. 2)"
check_match "reload: (the private known.priv.test was a cache hit before)" \
    '"rcode":"NOERROR".*"cache":"hit"' "$(logline_n known.priv.test. 2)"

# --- reload while a query is in flight on the old zones ---------------------------
#
# The default upstream is reached through tests/tools/slowproxy.py, which
# answers 1 s late.  known.priv.test is asked (no zone for it yet: the
# public 192.0.2.78 is on its way), and while that answer is delayed a
# reload adds the forward zone priv.test.  The old route's answer arrives
# after the reload's flush: it may be given to that client, but must not be
# kept in the cache, where it would shadow the zone's private 10.0.0.5.
pick_port SLOW_PORT || bail "no free port for slowproxy.py"
python3 "$SRCDIR/tests/tools/slowproxy.py" "$SLOW_PORT" "$NSD_PORT" 1.0 120 \
    >"$WORK/slowproxy.out" 2>&1 &
SLOW_PID=$!
track "$SLOW_PID"
n=0
while [ "$n" -lt 50 ] && alive "$SLOW_PID" &&
    ! grep -q '^ready' "$WORK/slowproxy.out"; do
	sleep 0.1
	n=$((n + 1))
done
grep -q '^ready' "$WORK/slowproxy.out" ||
    bail "slowproxy.py ready on 127.0.0.1:$SLOW_PORT" "$(head -c 300 "$WORK/slowproxy.out")"
SLOW=127.0.0.1:$SLOW_PORT
DW_TIMEOUT=3000ms start_dnsward race 1 "$SLOW"	# cache on
( t0=$(now_ms)
  dw_dig +time=4 known.priv.test A >"$WORK/race.bg"
  echo "$t0 $(now_ms)" >"$WORK/race.bg.t" ) &
RACE_BG=$!
# Until the proxy holds the query (it says "query" on each), 5 s at most.
n=0
while [ "$n" -lt 50 ] && ! grep -q '^query' "$WORK/slowproxy.out"; do
	sleep 0.1
	n=$((n + 1))
done
DW_TIMEOUT=3000ms DW_EXTRA="zones:
  - name: priv.test
    forward: [\"$PRIV\"]" write_conf "$DW_CONF" "$DW_PORT" 1 "$SLOW"
ctl_reload
t_reload=$(now_ms)
check_eq "race: reload adding a forward zone while a query is in flight: exit 0" \
    0 "$CTL_ST"
[ "$CTL_ST" = 0 ] || note "ctl reload said: $CTL_OUT"
n=0
while [ "$n" -lt 60 ] && alive "$RACE_BG"; do
	sleep 0.1
	n=$((n + 1))
done
wait "$RACE_BG" 2>/dev/null
t_bg0=0 t_bg1=0
[ -f "$WORK/race.bg.t" ] && read -r t_bg0 t_bg1 <"$WORK/race.bg.t"
bg=$(cat "$WORK/race.bg" 2>/dev/null)
note "race: the in-flight query's answer: $(status "$bg") $(got "$bg") (after $((t_bg1 - t_bg0)) ms)"
check_eq "race: (set-up) the in-flight query was answered" NOERROR "$(status "$bg")"
check_ge "race: (set-up) ... that answer came after the reload returned (ms later)" \
    $((t_bg1 - t_reload)) 0
out=$(dw_dig known.priv.test A)
check_eq "race: after the reload and the in-flight answer: the zone's private answer (no old-route answer cached)" \
    "$(want 'known.priv.test. IN A 10.0.0.5')" "$(got "$out")"
out=$(dw_dig known.priv.test A)
check_eq "race: ... and again" "$(want 'known.priv.test. IN A 10.0.0.5')" \
    "$(got "$out")"
stop_dnsward TERM
check_log
kill -TERM "$SLOW_PID" 2>/dev/null
wait_exit "$SLOW_PID" 30

# --- recurse mode without the hierarchy: zones through dnsward's forwarder ------------

start_listener ECHO_PORT upstream 300 echo
printf '. 3600000 NS dead.root.\ndead.root. 3600000 A 127.53.255.254\n' \
    >"$WORK/dead.hints"
DW_RESOLVER="resolver:
  mode: recurse
  root-hints: $WORK/dead.hints
  dnssec: off" DW_CACHE="{ size: off }" DW_EXTRA="zones:
  - name: echo.zone
    forward: [\"127.0.0.1:$ECHO_PORT\"]
$(local_zones www.test. q.echo.zone.)" start_dnsward rececho 1
out=$(dw_dig +rec q1.echo.zone TXT)
check_eq "recurse mode: a forward zone is asked through dnsward's forwarder" \
    q1.echo.zone. "$(seen qname "$out")"
check_eq "recurse mode: the zone's server sees RD=1" 1 "$(seen rd "$out")"
out=$(dw_dig +tcp q2.echo.zone TXT)
check_eq "recurse mode (TCP): forward zone answered" q2.echo.zone. \
    "$(seen qname "$out")"
out=$(dw_dig +norec q3.echo.zone TXT)
note "recurse mode: client RD=0: the zone's server saw rd=$(seen rd "$out") (unspecified)"
local_checks udp
stop_dnsward TERM
check_log
check_match "log (recurse mode): forward zone query: \"zone\":\"echo.zone\"" \
    '"zone":"echo\.zone"' "$(logline q1.echo.zone.)"
check_match "log (recurse mode): upstream is the zone's server" \
    "\"upstream\":\"127\\.0\\.0\\.1:$ECHO_PORT\"" "$(logline q1.echo.zone.)"

# --- recurse mode on the hierarchy: Private Link -----------------------------------------

if ! hier_can_run; then
	skip "zones with recursion through a loopback hierarchy: $HIER_WHY"
	finish
fi
hier_start
note "hierarchy: root $HIER_ROOT, private $HIER_PRIVATE ($HIER_START_MS ms)"
EX=$HIER_Z_EXAMPLE		# example.dwtest.
PL=$HIER_Z_PRIVATE		# privatelink.example.dwtest.
PLZ=${PL%.}

# start_rec NAME [LINE...]: recursion on the hierarchy, zone
# privatelink.example.dwtest. forwarded to the private server (with the
# LINEs), the local zones (ext -> www.example.dwtest.).
start_rec() {
	local name=$1 l extra
	shift
	extra="zones:
  - name: $PLZ
    forward: [\"$HIER_PRIVATE\"]"
	for l in "$@"; do
		extra="$extra
    $l"
	done
	extra="$extra
$(local_zones "www.$EX" "known.$PL")"
	DW_RESOLVER="resolver:
  mode: recurse
  root-hints: $HIER_HINTS
  trust-anchors: [$HIER_TA]
  query-loopback: on
  dnssec: validate" DW_CACHE="{ size: off }" DW_EXTRA=$extra \
	    start_dnsward "$name" 1
}

start_rec rz
for p in udp tcp; do
	opt=+notcp
	[ "$p" = tcp ] && opt=+tcp
	out=$(dw_dig $opt "known.$EX" A)
	check_eq "$p: recursion: public CNAME into the privatelink zone: private A" \
	    "$(want "known.$EX IN CNAME known.$PL" "known.$PL IN A 10.0.0.5")" \
	    "$(got "$out")"
	out=$(dw_dig $opt +dnssec +adflag "known.$EX" A)
	check_noad "$p: recursion: answer composed with zone data: no AD" "$out"
	out=$(dw_dig $opt "known.$PL" A)
	check_eq "$p: recursion: privatelink name asked directly: private A" \
	    "$(want "known.$PL IN A 10.0.0.5")" "$(got "$out")"
	out=$(dw_dig $opt "acct.$EX" A)
	check_eq "$p: recursion, no fallback: CNAME to a name missing privately: NXDOMAIN" \
	    NXDOMAIN "$(status "$out")"
	check_eq "$p: ... with the CNAME in the answer" \
	    "$(want "acct.$EX IN CNAME acct.$PL")" "$(got "$out")"
	out=$(dw_dig $opt "acct.$PL" A)
	check_eq "$p: recursion, no fallback: missing privately, asked directly: NXDOMAIN" \
	    NXDOMAIN "$(status "$out")"
	out=$(dw_dig $opt +dnssec "www.$EX" A)
	check_eq "$p: recursion: a name in no zone still recursed" \
	    "$(want "www.$EX IN A 192.0.2.10")" \
	    "$(printf '%s\n' "$out" | section ANSWER | awk '$4 != "RRSIG"' | answers | paste -sd'|')"
	check_match "$p: recursion: a name in no zone: secure, AD" "$HAS_AD" \
	    "$(flags "$out")"
	out=$(dw_dig $opt ext.corp.internal A)
	check_eq "$p: recursion: local CNAME out of the zone recursed" \
	    "$(want "ext.corp.internal. IN CNAME www.$EX" "www.$EX IN A 192.0.2.10")" \
	    "$(got "$out")"
	out=$(dw_dig $opt +dnssec +adflag ext.corp.internal A)
	check_noad "$p: recursion: local CNAME + recursed A: no AD" "$out"
	out=$(dw_dig $opt priv.corp.internal A)
	check_eq "$p: recursion: local CNAME into the privatelink zone" \
	    "$(want "priv.corp.internal. IN CNAME known.$PL" "known.$PL IN A 10.0.0.5")" \
	    "$(got "$out")"
done
local_checks udp
stop_dnsward TERM
check_log
l=$(logline "known.$EX")
check_match "log: recursion: chain into the zone: \"zone\":\"$PLZ\"" \
    "\"zone\":\"${PLZ//./\\.}\"" "$l"
check_match "log: recursion: chain into the zone: upstream is the private server" \
    "\"upstream\":\"${HIER_PRIVATE//./\\.}(:53)?\"" "$l"
check_nomatch "log: recursion: no fallback field" '"fallback"' "$l"
l=$(logline "www.$EX")
check_match "log: recursion: a name in no zone: upstream recursion" \
    '"upstream":"recursion"' "$l"
check_nomatch "log: recursion: a name in no zone: no \"zone\" field" '"zone"' "$l"

start_rec rf "on-nxdomain: fallback"
for p in udp tcp; do
	opt=+notcp
	[ "$p" = tcp ] && opt=+tcp
	out=$(dw_dig $opt "acct.$EX" A)
	check_eq "$p: recursion + fallback: CNAME to a name missing privately: public A" \
	    "NOERROR/$(want "acct.$EX IN CNAME acct.$PL" "acct.$PL IN A 192.0.2.77")" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt "acct.$PL" A)
	check_eq "$p: recursion + fallback: missing privately, asked directly: public A" \
	    "NOERROR/$(want "acct.$PL IN A 192.0.2.77")" \
	    "$(status "$out")/$(got "$out")"
	out=$(dw_dig $opt "known.$EX" A)
	check_eq "$p: recursion + fallback: a private name: still the private A" \
	    "$(want "known.$EX IN CNAME known.$PL" "known.$PL IN A 10.0.0.5")" \
	    "$(got "$out")"
	out=$(dw_dig $opt "known.$PL" A)
	check_eq "$p: recursion + fallback: private name directly: private A" \
	    "$(want "known.$PL IN A 10.0.0.5")" "$(got "$out")"
	out=$(dw_dig $opt "nosuch.$PL" A)
	check_eq "$p: recursion + fallback: missing in both views: NXDOMAIN" \
	    NXDOMAIN "$(status "$out")"
done
stop_dnsward TERM
check_log
l=$(logline "acct.$PL")
check_match "log: recursion + fallback: \"fallback\":true" '"fallback":true' "$l"
check_match "log: recursion + fallback: upstream recursion" \
    '"upstream":"recursion"' "$l"
check_match "log: recursion + fallback: \"zone\":\"$PLZ\"" \
    "\"zone\":\"${PLZ//./\\.}\"" "$l"
check_match "log: recursion + fallback through the chain: \"fallback\":true" \
    '"fallback":true' "$(logline "acct.$EX")"
l=$(logline "known.$PL")
check_match "log: recursion + fallback zone, private answer: the private server" \
    "\"upstream\":\"${HIER_PRIVATE//./\\.}(:53)?\"" "$l"
check_nomatch "log: recursion + fallback zone, private answer: no fallback field" \
    '"fallback"' "$l"

# recursion -> a local zone -> recursion: the privatelink zone as a local
# zone whose CNAME points back out to a recursed name, asked a few times
# (each a fresh chain: no hop state left over from the one before).
DW_RESOLVER="resolver:
  mode: recurse
  root-hints: $HIER_HINTS
  trust-anchors: [$HIER_TA]
  query-loopback: on
  dnssec: validate" DW_CACHE="{ size: off }" DW_EXTRA="zones:
  - name: $PLZ
    local: [\"known CNAME www.$EX\"]" start_dnsward rloc 1
for i in 1 2 3; do
	out=$(dw_dig "known.$EX" A)
	check_eq "recursion -> local zone -> recursion (query $i): the whole chain" \
	    "NOERROR/$(want "known.$EX IN CNAME known.$PL" \
	    "known.$PL IN CNAME www.$EX" "www.$EX IN A 192.0.2.10")" \
	    "$(status "$out")/$(got "$out")"
done
stop_dnsward TERM
check_log

hier_stop
finish
