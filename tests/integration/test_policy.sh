# test_policy.sh -- the policy engine through the daemon, with NSD as the
# upstream: feeds of every format (plain, hosts, adblock, RPZ), rule groups
# and priorities, every block response (nxdomain and nodata with SOA,
# refused, drop, override A/AAAA, override CNAME chased through NSD), alert,
# TLD and qtype rules, client scoping, CNAME-cloaked trackers (redirection
# inspect and trust), the walled garden, Extended DNS Errors, and the
# decision log's firewall fields -- over UDP and TCP.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_policy.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

BLOCK_TTL=45	# policy.block-ttl of every instance here (not the default 60)

# The NSD zone: the names the feeds below list, and names they do not.
make_zone() {
	cat >"$1" <<'EOF'
$ORIGIN test.
$TTL 300
@		IN SOA	ns.test. admin.test. 2026112301 3600 600 86400 300
@		IN NS	ns.test.
ns		IN A	127.0.0.1
mail		IN A	192.0.2.25
host		IN A	192.0.2.1
host		IN A	192.0.2.2
host		IN AAAA	2001:db8::1
www		IN CNAME host.test.
txt		IN TXT	"hello world"
evil		IN A	192.0.2.66
x.evil		IN A	192.0.2.67
t.evil		IN A	192.0.2.68
good.evil	IN A	192.0.2.69
rpz-pass.evil	IN A	192.0.2.70
vip.evil	IN A	192.0.2.72
sub.vip.evil	IN A	192.0.2.73
tracker		IN CNAME t.evil.test.
tracker2	IN CNAME hop.test.
hop		IN CNAME t.evil.test.
dn		IN DNAME evil.test.
wgalias		IN CNAME mail.test.
sink		IN A	192.0.2.53
sink		IN AAAA	2001:db8::53
phish		IN A	192.0.2.100
fixed		IN A	192.0.2.101
refuse		IN A	192.0.2.102
drop		IN A	192.0.2.103
anded		IN A	192.0.2.110
anded		IN MX	10 mail.test.
cdn-trusted	IN A	192.0.2.120
alias		IN CNAME cdn-trusted.test.
scoped		IN A	192.0.2.80
ads		IN A	192.0.2.90
sub.ads		IN A	192.0.2.91
hosts2		IN A	192.0.2.95
adblock		IN A	192.0.2.92
x.adblock	IN A	192.0.2.93
ok.adblock	IN A	192.0.2.94
rpz-nx		IN A	192.0.2.201
rpz-nodata	IN A	192.0.2.202
rpz-drop	IN A	192.0.2.203
rpz-a		IN A	192.0.2.204
rpz-cname	IN A	192.0.2.205
rpzwild		IN A	192.0.2.71
x.rpzwild	IN A	192.0.2.74
EOF
}

# --- feeds ---------------------------------------------------------------------

F=$WORK/feeds
mkdir -p "$F"
# malware: BOM, comment, blank, upper case + trailing dot, bad lines (lines
# 5, 7, 8), a duplicate (line 6), CRLF (line 9).  3 entries, 3 bad lines.
{
	printf '\357\273\277# malware feed for the tests\n'	# 1
	printf '\n'						# 2
	printf 'evil.test\n'					# 3
	printf 'MALWARE.TEST.\n'				# 4
	printf 'bad..name.test\n'				# 5 empty label
	printf 'evil.test\n'					# 6 duplicate
	printf 'inv@lid.test\n'					# 7 bad character
	printf '%s.test\n' "$(printf 'a%.0s' $(seq 1 64))"	# 8 label > 63
	printf 'crlf.test\r\n'					# 9
} >"$F/malware.txt"
printf '# corporate allow list\ngood.evil.test\n' >"$F/allow.txt"
printf 'vip.evil.test\n' >"$F/vip.txt"
printf 'phish.test\n' >"$F/phishing.txt"
printf 'fixed.test\n' >"$F/fixed.txt"
printf 'refuse.test\n' >"$F/refuse.txt"
printf 'drop.test\n' >"$F/drop.txt"
printf 'anded.test\n' >"$F/anded.txt"
printf 'cdn-trusted.test\n' >"$F/cdn.txt"
printf 'scoped.test\n' >"$F/scoped.txt"
cat >"$F/hosts.txt" <<'EOF'
# hosts file: exact names, several per line
0.0.0.0 ads.test hosts2.test
127.0.0.1	localhost-style.test   # trailing comment
EOF
cat >"$F/adblock.txt" <<'EOF'
! AdBlock-style list
||adblock.test^
@@||ok.adblock.test^
EOF
cat >"$F/policy.rpz" <<'EOF'
$TTL 300
$ORIGIN rpz.local.
@			SOA	localhost. root.localhost. 1 3600 600 86400 300
@			NS	localhost.
rpz-nx.test		CNAME	.
rpz-nodata.test		CNAME	*.
rpz-pass.evil.test	CNAME	rpz-passthru.
rpz-drop.test		CNAME	rpz-drop.
rpz-a.test		A	192.0.2.77
rpz-a.test		AAAA	2001:db8::77
rpz-cname.test		CNAME	sink.test.
*.rpzwild.test		CNAME	.
EOF

# Rules and groups deliberately not in priority order in the file.
POLICY_MAIN="feeds:
  - { id: malware, path: $F/malware.txt, format: plain }
  - { id: corp-allow, path: $F/allow.txt }
  - { id: vip, path: $F/vip.txt, format: plain, match: exact }
  - { id: rpz, path: $F/policy.rpz, format: rpz }
  - { id: hosts, path: $F/hosts.txt, format: hosts }
  - { id: adblock, path: $F/adblock.txt, format: adblock }
  - { id: phishing, path: $F/phishing.txt, format: plain }
  - { id: fixed, path: $F/fixed.txt, format: plain }
  - { id: refuse, path: $F/refuse.txt, format: plain }
  - { id: drop, path: $F/drop.txt, format: plain }
  - { id: anded, path: $F/anded.txt, format: plain }
  - { id: cdn, path: $F/cdn.txt, format: plain }
  - { id: scoped, path: $F/scoped.txt, format: plain }
policy:
  default: allow
  redirection: inspect
  block-ttl: ${BLOCK_TTL}s
  groups:
    - name: baseline
      priority: 100
      clients: [\"127.0.0.0/8\", \"::1/128\"]
      rules:
        - { name: malware, priority: 20, match: { feed: malware }, action: block, response: nxdomain }
        - { name: allow-corp, priority: 10, match: { feed: corp-allow }, action: allow }
        - { name: rpz, priority: 15, match: { feed: rpz }, action: block }
        - { name: ads, priority: 25, match: { feed: [hosts, adblock] }, action: block, response: nxdomain }
        - { name: risky-tlds, priority: 30, match: { tld: [zip, mov] }, action: block, response: nodata }
        - { name: sinkhole, priority: 40, match: { feed: phishing }, action: block, response: { override: { cname: sink.test, ttl: 60 } } }
        - { name: fixed, priority: 45, match: { feed: fixed }, action: block, response: { override: { a: [192.0.2.99], aaaa: [\"2001:db8::99\"], ttl: 30 } } }
        - { name: refuse, priority: 50, match: { feed: refuse }, action: block, response: refused }
        - { name: drop, priority: 55, match: { feed: drop }, action: block, response: drop }
        - { name: mx-anded, priority: 60, match: { feed: anded, qtype: [MX] }, action: block, response: nxdomain }
        - { name: txt-watch, priority: 70, match: { qtype: [TXT] }, action: alert }
        - { name: no-hinfo, priority: 75, match: { qtype: [HINFO] }, action: block, response: refused }
        - { name: cdn, priority: 80, match: { feed: cdn }, action: block, response: nxdomain, redirection: trust }
    - name: scoped
      priority: 50
      clients: [\"127.0.0.1/32\"]
      rules:
        - { name: scoped-block, priority: 1, match: { feed: scoped }, action: block, response: nxdomain }
    - name: early
      priority: 10
      rules:
        - { name: vip, priority: 5, match: { feed: vip }, action: allow }"

# --- helpers -----------------------------------------------------------------

# section NAME: the records of a dig section (ANSWER, AUTHORITY, ...).

# owner TTL TYPE of each record of a section.
rr_heads() {
	awk '{print $1, $2, $4}'
}

# check_neg DESC NAME TYPE STATUS OWNER-REGEX [dig options]: a policy's
# negative answer: STATUS, no answer, one SOA in the authority section
# with TTL block-ttl.
check_neg() {
	local desc=$1 name=$2 type=$3 st=$4 owner=$5 out
	shift 5
	out=$(dw_dig "$@" "$name" "$type")
	check_eq "$desc: status" "$st" "$(echo "$out" | dig_status)"
	check_eq "$desc: no answer records" "" "$(echo "$out" | section ANSWER)"
	check_match "$desc: one SOA in authority, owner /$owner/, TTL $BLOCK_TTL" \
	    "^$owner $BLOCK_TTL SOA\$" \
	    "$(echo "$out" | section AUTHORITY | rr_heads)"
	check_eq "$desc: authority holds exactly one record" 1 \
	    "$(echo "$out" | section AUTHORITY | wc -l)"
}

# same_as_nsd DESC NAME TYPE [dig options]: status, answer and authority
# sections (minus TTLs) equal NSD's.
declare -A NSD_REF	# NSD's answers, asked once per name, type and options
same_as_nsd() {
	local desc=$1 name=$2 type=$3 ref got key a
	shift 3
	key="$name $type"
	for a in "$@"; do
		case "$a" in +tcp | +notcp) ;; *) key="$key $a" ;; esac
	done
	if [ -z "${NSD_REF[$key]+set}" ]; then
		NSD_REF[$key]=$(nsd_dig "$@" "$name" "$type")
	fi
	ref=${NSD_REF[$key]}
	got=$(dw_dig "$@" "$name" "$type")
	check_eq "$desc: status as NSD's" "$(echo "$ref" | dig_status)" \
	    "$(echo "$got" | dig_status)"
	check_eq "$desc: answer section as NSD's" \
	    "$(echo "$ref" | section ANSWER | answers)" \
	    "$(echo "$got" | section ANSWER | answers)"
	check_eq "$desc: authority section as NSD's" \
	    "$(echo "$ref" | section AUTHORITY | answers)" \
	    "$(echo "$got" | section AUTHORITY | answers)"
}

# check_drop DESC NAME TYPE [dig options]: no reply at all.
check_drop() {
	local desc=$1 name=$2 type=$3 out
	shift 3
	out=$(dw_dig "$@" +time=1 +tries=1 "$name" "$type")
	check_nomatch "$desc: no reply (no header printed)" "status:" "$out"
	check_match "$desc: dig gives up" \
	    "timed out|no servers could be reached|communications error" \
	    "$out"
}

# EDE line of dig's output ("" when none).

# --- the main instance ---------------------------------------------------------

start_nsd
DW_ALLOW='"127.0.0.0/8", "::1/128"' DW_EXTRA=$POLICY_MAIN \
    start_dnsward pol 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on 127.0.0.1:$DW_PORT"

check_match "bad feed lines reported on stderr at start (FILE:LINE: why)" \
    "malware\.txt:5: " "$(cat "$DW_DIR/stderr")"

for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp

	# nxdomain, with the SOA owned by the matched name.
	check_neg "$proto: evil.test (malware feed) NXDOMAIN" evil.test A \
	    NXDOMAIN 'evil\.test\.' $opt
	check_neg "$proto: x.evil.test (below a plain entry) NXDOMAIN" \
	    x.evil.test A NXDOMAIN '(x\.)?evil\.test\.' $opt
	check_neg "$proto: MALWARE.TEST. entry (upper case, dot) blocks" \
	    malware.test AAAA NXDOMAIN 'malware\.test\.' $opt
	check_neg "$proto: crlf.test entry (CRLF line) blocks" \
	    crlf.test A NXDOMAIN 'crlf\.test\.' $opt
	check_neg "$proto: evil.test TXT blocked (block at 20 before alert at 70)" \
	    evil.test TXT NXDOMAIN 'evil\.test\.' $opt

	# nodata (TLD rule).
	check_neg "$proto: foo.zip (tld rule) NODATA" foo.zip A NOERROR \
	    '(foo\.)?zip\.' $opt
	check_neg "$proto: a.b.mov (tld rule) NODATA" a.b.mov AAAA NOERROR \
	    '((a\.b\.)?)mov\.' $opt

	# refused.
	out=$(dw_dig $opt refuse.test A)
	check_eq "$proto: refuse.test REFUSED" REFUSED \
	    "$(echo "$out" | dig_status)"
	check_eq "$proto: refuse.test no answer records" "" \
	    "$(echo "$out" | section ANSWER)"

	# drop.
	check_drop "$proto: drop.test (response: drop)" drop.test A $opt

	# override A / AAAA: exactly the configured records.
	out=$(dw_dig $opt fixed.test A)
	check_eq "$proto: fixed.test A status" NOERROR \
	    "$(echo "$out" | dig_status)"
	check_eq "$proto: fixed.test A override answer (TTL 30)" \
	    "fixed.test. 30 IN A 192.0.2.99" \
	    "$(echo "$out" | section ANSWER | sed 's/[[:space:]]\{1,\}/ /g')"
	out=$(dw_dig $opt fixed.test AAAA)
	check_eq "$proto: fixed.test AAAA override answer (TTL 30)" \
	    "fixed.test. 30 IN AAAA 2001:db8::99" \
	    "$(echo "$out" | section ANSWER | sed 's/[[:space:]]\{1,\}/ /g')"
	out=$(dw_dig $opt fixed.test MX)
	check_eq "$proto: fixed.test MX (no override of that type): NOERROR" \
	    NOERROR "$(echo "$out" | dig_status)"
	check_eq "$proto: fixed.test MX: no answer records" "" \
	    "$(echo "$out" | section ANSWER)"
	check_match "$proto: fixed.test MX: SOA in authority" "SOA" \
	    "$(echo "$out" | section AUTHORITY | rr_heads)"

	# override CNAME: the CNAME, then the target's records from NSD.
	out=$(dw_dig $opt phish.test A)
	check_eq "$proto: phish.test A status" NOERROR \
	    "$(echo "$out" | dig_status)"
	# sink.test's A has TTL 300 at NSD; the cache counts it down.
	check_eq "$proto: phish.test A = CNAME sink.test (TTL 60) + sink's A" \
	    "$(printf 'phish.test. 60 IN CNAME sink.test.\nsink.test. TTL IN A 192.0.2.53')" \
	    "$(echo "$out" | section ANSWER | sed 's/[[:space:]]\{1,\}/ /g;
	    s/^sink\.test\. [0-9]* /sink.test. TTL /')"
	ttl=$(echo "$out" | section ANSWER | awk '$1 == "sink.test." { print $2 }')
	check_le "$proto: phish.test A: sink's TTL at most 300" "$ttl" 300
	check_le "$proto: phish.test A: sink's TTL above 250" 251 "$ttl"
	check_eq "$proto: phish.test A +short (CNAME first)" \
	    "$(printf 'sink.test.\n192.0.2.53')" \
	    "$(dw_dig $opt +short phish.test A)"
	out=$(dw_dig $opt phish.test AAAA)
	check_eq "$proto: phish.test AAAA = CNAME + sink's AAAA" \
	    "$(printf 'phish.test. IN CNAME sink.test.\nsink.test. IN AAAA 2001:db8::53')" \
	    "$(echo "$out" | section ANSWER | awk '{$2 = ""; print}' |
	    sed 's/  */ /g')"

	# allow beats block by priority; groups by priority; match: exact.
	same_as_nsd "$proto: good.evil.test (allow-corp 10 before malware 20)" \
	    good.evil.test A $opt
	same_as_nsd "$proto: vip.evil.test (group early, priority 10)" \
	    vip.evil.test A $opt
	check_neg "$proto: sub.vip.evil.test (vip is match: exact) blocked" \
	    sub.vip.evil.test A NXDOMAIN '(sub\.vip\.)?evil\.test\.' $opt

	# alert: answered as NSD answers.
	same_as_nsd "$proto: txt.test TXT (alert) answered normally" \
	    txt.test TXT $opt
	check_neg "$proto: cdn-trusted.test TXT (alert at 70, then block at 80)" \
	    cdn-trusted.test TXT NXDOMAIN 'cdn-trusted\.test\.' $opt

	# qtype rules, ANDed conditions.
	out=$(dw_dig $opt host.test HINFO)
	check_eq "$proto: host.test HINFO (qtype rule) REFUSED" REFUSED \
	    "$(echo "$out" | dig_status)"
	check_neg "$proto: anded.test MX (feed AND qtype) blocked" \
	    anded.test MX NXDOMAIN 'anded\.test\.' $opt
	same_as_nsd "$proto: anded.test A (feed but not qtype) answered" \
	    anded.test A $opt

	# hosts (exact) and adblock (name and below, @@ exception).
	check_neg "$proto: ads.test (hosts) blocked" ads.test A NXDOMAIN \
	    'ads\.test\.' $opt
	check_neg "$proto: hosts2.test (2nd name on a hosts line) blocked" \
	    hosts2.test A NXDOMAIN 'hosts2\.test\.' $opt
	same_as_nsd "$proto: sub.ads.test (hosts entries are exact) answered" \
	    sub.ads.test A $opt
	check_neg "$proto: adblock.test (||adblock.test^) blocked" \
	    adblock.test A NXDOMAIN 'adblock\.test\.' $opt
	check_neg "$proto: x.adblock.test (below ||adblock.test^) blocked" \
	    x.adblock.test A NXDOMAIN '(x\.)?adblock\.test\.' $opt
	same_as_nsd "$proto: ok.adblock.test (@@ exception) answered" \
	    ok.adblock.test A $opt

	# RPZ actions.
	check_neg "$proto: rpz-nx.test (CNAME .) NXDOMAIN" rpz-nx.test A \
	    NXDOMAIN 'rpz-nx\.test\.' $opt
	check_neg "$proto: rpz-nodata.test (CNAME *.) NODATA" \
	    rpz-nodata.test A NOERROR 'rpz-nodata\.test\.' $opt
	check_neg "$proto: x.rpzwild.test (*.rpzwild.test CNAME .) NXDOMAIN" \
	    x.rpzwild.test A NXDOMAIN '(x\.)?rpzwild\.test\.' $opt
	same_as_nsd "$proto: rpzwild.test (a *. trigger is below only) answered" \
	    rpzwild.test A $opt
	same_as_nsd "$proto: rpz-pass.evil.test (rpz-passthru beats malware)" \
	    rpz-pass.evil.test A $opt
	check_drop "$proto: rpz-drop.test (CNAME rpz-drop.)" rpz-drop.test A \
	    $opt
	check_eq "$proto: rpz-a.test A (RPZ local data)" "192.0.2.77" \
	    "$(dw_dig $opt +short rpz-a.test A)"
	check_eq "$proto: rpz-a.test AAAA (RPZ local data)" "2001:db8::77" \
	    "$(dw_dig $opt +short rpz-a.test AAAA)"
	out=$(dw_dig $opt rpz-cname.test A)
	check_eq "$proto: rpz-cname.test (RPZ CNAME local data) chased via NSD" \
	    "$(printf 'rpz-cname.test. IN CNAME sink.test.\nsink.test. IN A 192.0.2.53')" \
	    "$(echo "$out" | section ANSWER | awk '{$2 = ""; print}' |
	    sed 's/  */ /g')"

	# CNAME-cloaked trackers (redirection: inspect).
	check_neg "$proto: tracker.test -> t.evil.test blocked (whole answer)" \
	    tracker.test A NXDOMAIN '(t\.evil\.test\.|evil\.test\.|tracker\.test\.)' $opt
	check_neg "$proto: tracker2.test -> hop.test -> t.evil.test blocked" \
	    tracker2.test A NXDOMAIN '(t\.evil\.test\.|evil\.test\.|tracker2\.test\.)' $opt
	check_neg "$proto: x.dn.test (DNAME dn.test -> evil.test) blocked" \
	    x.dn.test A NXDOMAIN '(x\.)?(dn|evil)\.test\.' $opt
	same_as_nsd "$proto: alias.test -> cdn-trusted.test (rule trusts redirection)" \
	    alias.test A $opt
	check_neg "$proto: cdn-trusted.test itself still blocked" \
	    cdn-trusted.test A NXDOMAIN 'cdn-trusted\.test\.' $opt

	# client scoping.
	check_neg "$proto: scoped.test from 127.0.0.1 (in group scope) blocked" \
	    scoped.test A NXDOMAIN 'scoped\.test\.' -b 127.0.0.1 $opt
	same_as_nsd "$proto: scoped.test from 127.0.0.2 (out of scope) answered" \
	    scoped.test A -b 127.0.0.2 $opt

	# names on no list: exactly NSD's answers.
	same_as_nsd "$proto: host.test A" host.test A $opt
	same_as_nsd "$proto: host.test AAAA" host.test AAAA $opt
	same_as_nsd "$proto: www.test -> host.test" www.test A $opt
	same_as_nsd "$proto: nosuch.test NXDOMAIN (NSD's own SOA)" \
	    nosuch.test A $opt
	same_as_nsd "$proto: host.test MX NODATA (NSD's own SOA)" \
	    host.test MX $opt
	same_as_nsd "$proto: notevil.test (a string suffix of no entry's labels)" \
	    notevil.test A $opt
done

if have_ipv6; then
	check_eq "IPv6: scoped.test from ::1 (out of scope) answered" \
	    "192.0.2.80" "$(dw_dig6 +short scoped.test A)"
	out=$(dw_dig6 evil.test A)
	check_eq "IPv6: evil.test from ::1 (baseline scope) NXDOMAIN" \
	    NXDOMAIN "$(echo "$out" | dig_status)"
fi

# --- Extended DNS Errors ---------------------------------------------------------

out=$(dw_dig evil.test A)
check_eq "EDE 15 names rule, group and feed (EDNS query)" \
    "; EDE: 15 (Blocked): (blocked by rule 'malware' in group 'baseline' (feed 'malware'))" \
    "$(echo "$out" | dig_ede)"
out=$(dw_dig +tcp evil.test A)
check_eq "EDE 15 over TCP" \
    "; EDE: 15 (Blocked): (blocked by rule 'malware' in group 'baseline' (feed 'malware'))" \
    "$(echo "$out" | dig_ede)"
out=$(dw_dig foo.zip A)
check_match "EDE 15 on a TLD rule's NODATA names the rule" \
    "^; EDE: 15 \(Blocked\): \(.*'risky-tlds'.*'baseline'" \
    "$(echo "$out" | dig_ede)"
out=$(dw_dig refuse.test A)
check_match "EDE 15 on REFUSED" "^; EDE: 15 \(Blocked\): .*'refuse'" \
    "$(echo "$out" | dig_ede)"
out=$(dw_dig fixed.test A)
check_match "EDE 15 on an override answer" \
    "^; EDE: 15 \(Blocked\): .*'fixed'" "$(echo "$out" | dig_ede)"
out=$(dw_dig phish.test A)
check_match "EDE 15 on an override CNAME answer" \
    "^; EDE: 15 \(Blocked\): .*'sinkhole'" "$(echo "$out" | dig_ede)"
out=$(dw_dig tracker.test A)
check_match "EDE 15 on a blocked redirection names the rule" \
    "^; EDE: 15 \(Blocked\): .*'malware'" "$(echo "$out" | dig_ede)"
out=$(dw_dig rpz-nx.test A)
check_match "EDE 15 on an RPZ action names the feed" \
    "^; EDE: 15 \(Blocked\): .*\(feed 'rpz'\)" "$(echo "$out" | dig_ede)"
out=$(dw_dig +noedns evil.test A)
check_eq "no EDNS: blocked answer still NXDOMAIN" NXDOMAIN \
    "$(echo "$out" | dig_status)"
check_nomatch "no EDNS: no OPT, no EDE" "OPT PSEUDOSECTION|EDE" "$out"
out=$(dw_dig +noedns +tcp fixed.test A)
check_nomatch "no EDNS over TCP: no OPT, no EDE" "OPT PSEUDOSECTION|EDE" "$out"
out=$(dw_dig host.test A)
check_eq "allowed answer carries no EDE" "" "$(echo "$out" | dig_ede)"
out=$(dw_dig txt.test TXT)
check_eq "alerted answer carries no EDE" "" "$(echo "$out" | dig_ede)"
count_sent udp 1
out=$("$DWQ" query 127.0.0.1 "$DW_PORT" evil.test A --edns 1232)
check_match "dwq: blocked answer NXDOMAIN, an=0 ns=1 ar=1 (OPT)" \
    "rcode=NXDOMAIN .* an=0 ns=1 ar=1 opt=1 " "$out"
count_sent udp 1
out=$("$DWQ" query 127.0.0.1 "$DW_PORT" evil.test A --edns none --id 777)
check_match "dwq: blocked answer without EDNS: ID kept, an=0 ns=1 ar=0" \
    "^id=777 rcode=NXDOMAIN .* an=0 ns=1 ar=0 opt=0 " "$out"

count_sent udp 1
out=$("$DWQ" query 127.0.0.1 "$DW_PORT" evil.test A --id 4242 --rd 0 --cd 1)
check_match "dwq: blocked answer keeps ID, RD=0 and CD=1" \
    "^id=4242 rcode=NXDOMAIN qr=1 .*rd=0 .*cd=1 " "$out"
count_sent tcp 1
out=$("$DWQ" query 127.0.0.1 "$DW_PORT" evil.test A --tcp --do)
check_match "dwq: blocked answer over TCP echoes DO" \
    "rcode=NXDOMAIN .* opt=1 .*do=1 " "$out"
count_sent tcp 20
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 20 evil.test)
check_eq "20 pipelined blocked queries on one TCP connection answered" \
    "ok 20" "$out"
count_sent tcp 10
out=$("$DWQ" tcp-pipeline 127.0.0.1 "$DW_PORT" 10 phish.test)
check_eq "10 pipelined override-CNAME queries on one TCP connection" \
    "ok 10" "$out"

# --- the decision log ----------------------------------------------------------

stop_dnsward TERM
check_log
"$DWQ" jsoncheck "$DW_LOG" firewall_rule_group_id rule \
    firewall_domain_list_id matched_name reason >"$WORK/jc" 2>&1
check_match "decision log: firewall fields on every line" \
    "^[0-9]+ lines ok$" "$(cat "$WORK/jc")"
log_rows query_name query_type srcaddr firewall_rule_action \
    firewall_rule_group_id rule firewall_domain_list_id matched_name \
    reason rcode >"$WORK/rows"

# log_expect DESC NAME TYPE SRC REGEX: every line for NAME/TYPE (from SRC,
# or any when "*") has "action group rule feed matched reason" matching
# REGEX; there is at least one.
log_expect() {
	local desc=$1 name=$2 type=$3 src=$4 re=$5 sel bad
	sel=$(awk -F'\t' -v n="$name" -v t="$type" -v s="$src" \
	    '$1 == n && $2 == t && (s == "*" || $3 == s) {
		print $4, $5, $6, $7, $8, $9 }' "$WORK/rows")
	if [ -z "$sel" ]; then
		fail "log: $desc" "lines for $name $type" "none"
		return
	fi
	bad=$(printf '%s\n' "$sel" | grep -Ev -- "$re" | sort -u | head -n 3)
	if [ -z "$bad" ]; then
		ok "log: $desc ($(printf '%s\n' "$sel" | wc -l) lines)"
	else
		fail "log: $desc" "/$re/" "'$(printf '%s' "$bad" | tr '\n' '|')'"
	fi
}

log_expect "evil.test BLOCK baseline/malware feed malware" evil.test. A '*' \
    '^BLOCK baseline malware malware evil\.test\. feed$'
log_expect "x.evil.test BLOCK, matched_name the query name x.evil.test." \
    x.evil.test. A '*' \
    '^BLOCK baseline malware malware x\.evil\.test\. feed$'
log_expect "good.evil.test ALLOW by allow-corp" good.evil.test. A '*' \
    '^ALLOW baseline allow-corp corp-allow good\.evil\.test\. feed$'
log_expect "vip.evil.test ALLOW by group early" vip.evil.test. A '*' \
    '^ALLOW early vip vip vip\.evil\.test\. feed$'
log_expect "foo.zip BLOCK by risky-tlds, reason tld, no feed" foo.zip. A '*' \
    '^BLOCK baseline risky-tlds null foo\.zip\. tld$'
log_expect "refuse.test BLOCK rcode REFUSED" refuse.test. A '*' \
    '^BLOCK baseline refuse refuse refuse\.test\. feed$'
log_expect "drop.test BLOCK by drop" drop.test. A '*' \
    '^BLOCK baseline drop drop drop\.test\. feed$'
log_expect "fixed.test BLOCK by fixed" fixed.test. A '*' \
    '^BLOCK baseline fixed fixed fixed\.test\. feed$'
log_expect "phish.test BLOCK by sinkhole" phish.test. A '*' \
    '^BLOCK baseline sinkhole phishing phish\.test\. feed$'
log_expect "txt.test TXT ALERT by txt-watch, reason qtype" txt.test. TXT '*' \
    '^ALERT baseline txt-watch null txt\.test\. qtype$'
log_expect "cdn-trusted.test TXT: alert then block: BLOCK by cdn" \
    cdn-trusted.test. TXT '*' \
    '^BLOCK baseline cdn cdn cdn-trusted\.test\. feed$'
log_expect "host.test HINFO BLOCK by no-hinfo, reason qtype" host.test. HINFO \
    '*' '^BLOCK baseline no-hinfo null host\.test\. qtype$'
log_expect "anded.test MX BLOCK by mx-anded" anded.test. MX '*' \
    '^BLOCK baseline mx-anded anded anded\.test\. feed$'
log_expect "anded.test A ALLOW default, no rule" anded.test. A '*' \
    '^ALLOW null null null null default$'
log_expect "ads.test BLOCK by ads (hosts)" ads.test. A '*' \
    '^BLOCK baseline ads hosts ads\.test\. feed$'
log_expect "adblock.test BLOCK by ads (adblock)" adblock.test. A '*' \
    '^BLOCK baseline ads adblock adblock\.test\. feed$'
log_expect "ok.adblock.test ALLOW default (@@ exception)" ok.adblock.test. A \
    '*' '^ALLOW null null null null default$'
log_expect "rpz-nx.test BLOCK by rpz (feed rpz)" rpz-nx.test. A '*' \
    '^BLOCK baseline rpz rpz rpz-nx\.test\. feed$'
log_expect "x.rpzwild.test BLOCK by rpz" x.rpzwild.test. A '*' \
    '^BLOCK baseline rpz rpz x\.rpzwild\.test\. feed$'
log_expect "rpz-pass.evil.test ALLOW by rpz (passthru)" rpz-pass.evil.test. A \
    '*' '^ALLOW baseline rpz rpz rpz-pass\.evil\.test\. feed$'
log_expect "rpz-cname.test BLOCK by rpz" rpz-cname.test. A '*' \
    '^BLOCK baseline rpz rpz rpz-cname\.test\. feed$'
log_expect "tracker.test BLOCK by malware, matched_name t.evil.test. (the hop)" \
    tracker.test. A '*' '^BLOCK baseline malware malware t\.evil\.test\. feed$'
log_expect "tracker2.test BLOCK by malware, matched_name t.evil.test." \
    tracker2.test. A '*' '^BLOCK baseline malware malware t\.evil\.test\. feed$'
log_expect "x.dn.test (DNAME) BLOCK by malware" x.dn.test. A '*' \
    '^BLOCK baseline malware malware (x\.)?evil\.test\. feed$'
log_expect "alias.test ALLOW (cdn rule trusts redirection)" alias.test. A '*' \
    '^ALLOW null null null null default$'
log_expect "scoped.test from 127.0.0.1 BLOCK by group scoped" scoped.test. A \
    127.0.0.1 '^BLOCK scoped scoped-block scoped scoped\.test\. feed$'
log_expect "scoped.test from 127.0.0.2 ALLOW default" scoped.test. A \
    127.0.0.2 '^ALLOW null null null null default$'
log_expect "host.test A ALLOW default, all firewall fields null" host.test. A \
    '*' '^ALLOW null null null null default$'
n=$(awk -F'\t' '$1 == "drop.test." || $1 == "rpz-drop.test."' "$WORK/rows" |
    awk -F'\t' '$10 != "null"' | wc -l)
check_eq "log: dropped queries logged with rcode null" 0 "$n"
n=$(awk -F'\t' '$1 == "refuse.test." && $10 != "REFUSED"' "$WORK/rows" | wc -l)
check_eq "log: refused queries logged with rcode REFUSED" 0 "$n"

# --- reversed priorities, policy.redirection: trust --------------------------------

POLICY_REV=$(printf '%s\n' "$POLICY_MAIN" | sed \
    -e 's/name: allow-corp, priority: 10/name: allow-corp, priority: 35/' \
    -e 's/redirection: inspect/redirection: trust/')
DW_ALLOW='"127.0.0.0/8", "::1/128"' DW_EXTRA=$POLICY_REV \
    start_dnsward rev 1 "127.0.0.1:$NSD_PORT"
for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp
	check_neg "$proto: reversed (allow-corp 35, malware 20): good.evil.test blocked" \
	    good.evil.test A NXDOMAIN '(good\.)?evil\.test\.' $opt
	same_as_nsd "$proto: redirection trust: tracker.test -> t.evil.test answered" \
	    tracker.test A $opt
	same_as_nsd "$proto: redirection trust: tracker2.test (2 hops) answered" \
	    tracker2.test A $opt
	same_as_nsd "$proto: redirection trust: x.dn.test (DNAME to evil.test) answered" \
	    x.dn.test A $opt
	check_neg "$proto: redirection trust: t.evil.test itself still blocked" \
	    t.evil.test A NXDOMAIN '(t\.)?evil\.test\.' $opt
done
stop_dnsward TERM
check_log
log_rows query_name query_type srcaddr firewall_rule_action \
    firewall_rule_group_id rule firewall_domain_list_id matched_name \
    reason rcode >"$WORK/rows"
log_expect "reversed: good.evil.test BLOCK by malware" good.evil.test. A '*' \
    '^BLOCK baseline malware malware good\.evil\.test\. feed$'
log_expect "trust: tracker.test ALLOW default" tracker.test. A '*' \
    '^ALLOW null null null null default$'

# --- walled garden: explicit allow list, default block -----------------------------

printf 'host.test\nwww.test\nwgalias.test\n' >"$F/garden.txt"
POLICY_WG="feeds:
  - { id: garden, path: $F/garden.txt, format: plain, match: exact }
policy:
  default: block
  block-ttl: ${BLOCK_TTL}s
  groups:
    - name: garden
      priority: 1
      rules:
        - { name: allowed, priority: 1, match: { feed: garden }, action: allow }"
DW_EXTRA=$POLICY_WG start_dnsward wg 1 "127.0.0.1:$NSD_PORT"
for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp
	same_as_nsd "$proto: walled garden: listed host.test answered" \
	    host.test A $opt
	same_as_nsd "$proto: walled garden: listed www.test (CNAME to host.test) answered" \
	    www.test A $opt
	same_as_nsd "$proto: walled garden: listed wgalias.test -> mail.test (not listed) answered" \
	    wgalias.test A $opt
	check_neg "$proto: walled garden: txt.test (not listed) NXDOMAIN" \
	    txt.test TXT NXDOMAIN 'txt\.test\.' $opt
	check_neg "$proto: walled garden: sub.host.test (exact list) NXDOMAIN" \
	    sub.host.test A NXDOMAIN 'sub\.host\.test\.' $opt
	out=$(dw_dig $opt mail.test A)
	check_match "$proto: walled garden: EDE 17 (Filtered)" \
	    "^; EDE: 17 \(Filtered\)" "$(echo "$out" | dig_ede)"
done
stop_dnsward TERM
check_log
log_rows query_name query_type srcaddr firewall_rule_action \
    firewall_rule_group_id rule firewall_domain_list_id matched_name \
    reason rcode >"$WORK/rows"
log_expect "walled garden: host.test ALLOW by garden/allowed" host.test. A '*' \
    '^ALLOW garden allowed garden host\.test\. feed$'
log_expect "walled garden: txt.test BLOCK, reason default, no rule" \
    txt.test. TXT '*' '^BLOCK null null null null default$'

finish
