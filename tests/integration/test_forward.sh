# test_forward.sh -- answers through dnsward equal NSD's; header bits,
# EDNS, truncation, the client ACL, IPv6, SIGTERM and the decision log.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_forward.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

start_nsd
start_dnsward fwd 1 "127.0.0.1:$NSD_PORT"
note "nsd on 127.0.0.1:$NSD_PORT, dnsward on 127.0.0.1:$DW_PORT and [::1]:$DW_PORT"

# --- answers equal NSD's, UDP and TCP ----------------------------------

# same_answer DESC NAME TYPE [dig options]
same_answer() {
	local desc=$1 name=$2 type=$3 ref got
	shift 3
	ref=$(nsd_dig "$@" "$name" "$type")
	got=$(dw_dig "$@" "$name" "$type")
	check_eq "$desc: status" "$(echo "$ref" | dig_status)" \
	    "$(echo "$got" | dig_status)"
	check_eq "$desc: answer section (minus TTL)" \
	    "$(echo "$ref" | sed -n '/ANSWER SECTION/,/^$/p' | answers)" \
	    "$(echo "$got" | sed -n '/ANSWER SECTION/,/^$/p' | answers)"
	check_eq "$desc: +short" \
	    "$(nsd_dig +short "$@" "$name" "$type" | sort)" \
	    "$(dw_dig +short "$@" "$name" "$type" | sort)"
}

for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp
	same_answer "A host.test over $proto" host.test A $opt
	same_answer "AAAA host.test over $proto" host.test AAAA $opt
	same_answer "MX test over $proto" test MX $opt
	same_answer "TXT txt.test (spaces, quotes, escapes) over $proto" \
	    txt.test TXT $opt
	same_answer "CNAME www.test (type CNAME) over $proto" www.test CNAME $opt
	same_answer "CNAME www.test -> host.test (type A) over $proto" \
	    www.test A $opt
	same_answer "CNAME chain.test -> www -> host over $proto" \
	    chain.test A $opt
	same_answer "NXDOMAIN nosuch.test over $proto" nosuch.test A $opt
	same_answer "NODATA host.test MX over $proto" host.test MX $opt
done

# kdig as a second client implementation.
if command -v kdig >/dev/null 2>&1; then
	count_sent tcp 1
	got=$(kdig @127.0.0.1 -p "$DW_PORT" +time=2 +retry=0 +tcp +short \
	    host.test A 2>&1 | sort)
	check_eq "kdig +tcp A host.test" "$(printf '192.0.2.1\n192.0.2.2')" \
	    "$got"
	count_sent udp 1
	got=$(kdig @127.0.0.1 -p "$DW_PORT" +time=2 +retry=0 +notcp +short \
	    txt.test TXT 2>&1 | sort)
	check_eq "kdig TXT txt.test" "$(kdig @127.0.0.1 -p "$NSD_PORT" \
	    +time=2 +retry=0 +short txt.test TXT 2>&1 | sort)" "$got"
else
	skip "kdig checks: kdig not installed (apt-get install knot-dnsutils)"
fi

# --- header: ID preserved, RD/CD/DO echoed --------------------------------

for proto in udp tcp; do
	t=
	[ "$proto" = tcp ] && t=--tcp
	out=$(dw_q host.test A --id 4242 --rd 1 --cd 1 --do $t)
	check_match "$proto: ID 4242 preserved, RD=1 CD=1 DO=1 echoed" \
	    "^id=4242 rcode=NOERROR qr=1 .*rd=1 .*cd=1 .*opt=1 .*do=1 " "$out"
	check_eq "$proto: answer count with RD=1 CD=1" 2 "$(kv an "$out")"
	out=$(dw_q host.test A --id 17 --rd 0 --cd 0 $t)
	check_match "$proto: ID 17 preserved, RD=0 CD=0 echoed" \
	    "^id=17 .*qr=1 .*rd=0 .*cd=0 " "$out"
	out=$(dw_q host.test A --id 65535 $t)
	check_match "$proto: ID 65535 preserved" "^id=65535 .*qr=1 " "$out"
	out=$(dw_q HoSt.TeSt A --id 9 $t)
	check_match "$proto: mixed-case question echoed as sent" \
	    "^id=9 rcode=NOERROR .*qname=host\.test\. " "$out"
	check_eq "$proto: mixed-case question answered" 2 "$(kv an "$out")"
done
# dwq prints the qname lowercased; check the case on the wire too.
count_sent udp 1
hex=$("$DWQ" udp 127.0.0.1 "$DW_PORT" \
    "0b0b 0100 0001 0000 0000 0000 04486f5374 0454655374 00 0001 0001")
check_match "question case (HoSt.TeSt) preserved in the reply bytes" \
    "^0b0b8[0-9a-f]{19}04486f537404546553740000010001" "$hex"

# --- EDNS ------------------------------------------------------------------

out=$(dw_q host.test A --edns 1232)
check_match "EDNS query gets an OPT back" " opt=1 " "$out"
out=$(dw_q host.test A --edns none)
check_match "query without EDNS gets no OPT" "rcode=NOERROR .* opt=0 " "$out"
out=$(dw_q host.test A --edns none --tcp)
check_match "TCP query without EDNS gets no OPT" "rcode=NOERROR .* opt=0 " \
    "$out"
out=$(dw_q host.test A --ednsver 1)
check_match "EDNS version 1 gets BADVERS with an OPT" \
    "rcode=BADVERS .* opt=1 .*ednsver=0 " "$out"
out=$(dw_dig +edns=1 +noednsneg host.test A)
check_eq "dig +edns=1 gets BADVERS" BADVERS "$(echo "$out" | dig_status)"

# --- truncation --------------------------------------------------------------

ref_big=$(nsd_dig +tcp +short big.test TXT | wc -l)
check_eq "NSD serves 40 TXT records at big.test (zone sanity)" 40 "$ref_big"
out=$(dw_dig +notcp big.test TXT)
check_match "big TXT over UDP (EDNS 1232) is truncated" "flags:.* tc" "$out"
out=$(dw_dig +notcp +noedns big.test TXT)
check_match "big TXT over UDP without EDNS is truncated" "flags:.* tc" "$out"
out=$(dw_q big.test TXT --edns none)
check_match "truncated reply without EDNS: TC=1" " tc=1 " "$out"
check_le "truncated reply without EDNS fits 512 bytes" "$(kv size "$out")" 512
out=$(dw_q big.test TXT --edns 4096)
check_match "truncated reply to EDNS 4096: TC=1" " tc=1 " "$out"
check_le "reply to EDNS 4096 within edns-buffer-size 1232" \
    "$(kv size "$out")" 1232
out=$(dw_q big.test TXT --edns 512)
check_le "reply to EDNS 512 fits 512 bytes" "$(kv size "$out")" 512
got=$(dw_dig +tcp +short big.test TXT | wc -l)
check_eq "big TXT over TCP is complete (dig)" "$ref_big" "$got"
out=$(dw_q big.test TXT --tcp)
check_match "big TXT over TCP: TC=0, 40 answers" " tc=0 .* an=40 " "$out"
check_eq "big TXT over TCP equals NSD's records" \
    "$(nsd_dig +tcp +short big.test TXT | sort)" \
    "$(dw_dig +tcp +short big.test TXT | sort)"

# mid.test: ~800 bytes -- truncated at 512, whole at 1232.
ref_mid=$(nsd_dig +tcp +short mid.test TXT | sort)
out=$(dw_dig +notcp +noedns mid.test TXT)
check_match "800-byte answer without EDNS (512) is truncated" \
    "flags:.* tc" "$out"
out=$(dw_dig +notcp +bufsize=1232 mid.test TXT)
check_nomatch "800-byte answer with EDNS 1232 is not truncated" \
    "flags:.* tc" "$out"
check_eq "800-byte answer with EDNS 1232 is complete" "$ref_mid" \
    "$(dw_dig +notcp +bufsize=1232 +short mid.test TXT | sort)"

# --- client ACL -----------------------------------------------------------

out=$(dw_dig -b 127.0.0.2 host.test A)
check_eq "client 127.0.0.2 (outside allow-clients) gets REFUSED over UDP" \
    REFUSED "$(echo "$out" | dig_status)"
out=$(dw_dig -b 127.0.0.2 +tcp host.test A)
check_eq "client 127.0.0.2 gets REFUSED over TCP" REFUSED \
    "$(echo "$out" | dig_status)"
out=$(dw_dig -b 127.0.0.2 +short host.test A)
check_eq "REFUSED carries no answer" "" "$out"
out=$(dw_dig -b 127.0.0.1 +short host.test A | sort)
check_eq "client 127.0.0.1 (allowed) still answered" \
    "$(printf '192.0.2.1\n192.0.2.2')" "$out"

# --- IPv6 -------------------------------------------------------------------

if have_ipv6; then
	check_eq "IPv6 [::1] UDP A host.test" \
	    "$(nsd_dig +short host.test A | sort)" \
	    "$(dw_dig6 +notcp +short host.test A | sort)"
	check_eq "IPv6 [::1] TCP AAAA host.test" \
	    "$(nsd_dig +short host.test AAAA)" \
	    "$(dw_dig6 +tcp +short host.test AAAA)"
	out=$(dw_dig6 +tcp +short big.test TXT | wc -l)
	check_eq "IPv6 [::1] TCP big TXT complete" "$ref_big" "$out"
	count_sent udp 1
	out=$("$DWQ" query ::1 "$DW_PORT" host.test A --id 606)
	check_match "IPv6 [::1] ID preserved" "^id=606 rcode=NOERROR " "$out"
else
	skip "IPv6 checks: the kernel has no IPv6 loopback (::1)"
fi

# --- SIGTERM and the decision log ------------------------------------------

stop_dnsward TERM
check_log

rows=$(log_rows srcaddr transport rcode firewall_rule_action reason)
n=$(echo "$rows" | awk -F'\t' '$1 == "127.0.0.2" && $3 == "REFUSED" &&
    $4 == "BLOCK" && $5 == "acl"' | wc -l)
check_eq "log: REFUSED clients logged BLOCK/acl" 3 "$n"
n=$(echo "$rows" | awk -F'\t' '$1 == "127.0.0.2" && $2 == "TCP"' | wc -l)
check_eq "log: the refused TCP query logged as TCP" 1 "$n"
n=$(echo "$rows" | awk -F'\t' '$3 == "BADVERS"' | wc -l)
check_eq "log: BADVERS queries logged with rcode BADVERS" 2 "$n"
n=$(log_rows query_name query_type rcode | awk -F'\t' \
    '$1 == "nosuch.test." && $2 == "A" && $3 == "NXDOMAIN"' | wc -l)
check_eq "log: NXDOMAIN queries logged (name, type, rcode)" 4 "$n"
n=$(log_rows query_name query_class answers | awk -F'\t' \
    '$1 == "host.test." && $2 == "IN" && $3 ~ /192\.0\.2\.1/' | wc -l)
check_ge "log: answers field holds the A records" "$n" 1
if have_ipv6; then
	n=$(log_rows srcaddr | grep -c '^::1$')
	check_eq "log: IPv6 client address ::1" 4 "$n"
fi
n=$(log_rows srcport latency_us | awk -F'\t' \
    '$1 !~ /^[0-9]+$/ || $1 < 1 || $1 > 65535 || $2 !~ /^[0-9]+$/' | wc -l)
check_eq "log: srcport and latency_us are numbers" 0 "$n"
n=$(log_rows query_timestamp | grep -Evc \
    '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\.[0-9]+)?Z$')
check_eq "log: query_timestamp is ISO 8601 UTC" 0 "$n"

# --- another ACL (no IPv6, 127.0.0.2 only) and edns-buffer-size 512 --------

DW_ALLOW='"127.0.0.2/32", "::2/128"' DW_EDNS=512 \
    start_dnsward acl 1 "127.0.0.1:$NSD_PORT"
out=$(dw_dig -b 127.0.0.1 host.test A)
check_eq "allow-clients [127.0.0.2/32, ::2/128]: 127.0.0.1 REFUSED" REFUSED \
    "$(echo "$out" | dig_status)"
check_eq "allow-clients [127.0.0.2/32, ::2/128]: 127.0.0.2 answered" \
    "$(nsd_dig +short host.test A | sort)" \
    "$(dw_dig -b 127.0.0.2 +short host.test A | sort)"
if have_ipv6; then
	out=$(dw_dig6 host.test A)
	check_eq "allow-clients without ::1: [::1] UDP REFUSED" REFUSED \
	    "$(echo "$out" | dig_status)"
	out=$(dw_dig6 +tcp host.test A)
	check_eq "allow-clients without ::1: [::1] TCP REFUSED" REFUSED \
	    "$(echo "$out" | dig_status)"
fi
count_sent udp 1
out=$("$DWQ" query 127.0.0.1 "$DW_PORT" mid.test TXT --edns 1232 \
    --src 127.0.0.2)
check_match "edns-buffer-size 512: 800-byte answer to EDNS 1232 truncated" \
    " tc=1 " "$out"
check_le "edns-buffer-size 512: reply fits 512 bytes" "$(kv size "$out")" 512
check_match "edns-buffer-size 512: the OPT advertises 512" " udpsize=512 " \
    "$out"
stop_dnsward TERM
check_log
n=$(log_rows srcaddr rcode reason | awk -F'\t' '$2 == "REFUSED" &&
    $3 == "acl"' | wc -l)
check_eq "log: refused clients (127.0.0.1, ::1) logged with reason acl" \
    "$(have_ipv6 && echo 3 || echo 1)" "$n"

finish
