# test_upstream.sh -- what the forwarder sends and accepts, against a
# scripted upstream (dwq upstream): RD/CD/DO preserved, a random ID and
# source port per upstream query, spoofed replies (wrong ID, wrong question,
# wrong source port) ignored, TC=1 from upstream retried over TCP.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_upstream.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

# start_upstream MODE: a scripted upstream (60 s); sets UP_PORT.
start_upstream() {
	start_listener UP_PORT upstream 60 "$1"
}

# seen FIELD DIG-OUTPUT: FIELD=value from the echo upstream's TXT answer.
seen() {
	printf '%s\n' "$2" | grep -o "\"id=[^\"]*\"" | tr -d '"' |
	    tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

client_id() {
	printf '%s\n' "$1" | sed -n 's/.*, id: \([0-9]*\)$/\1/p' | head -n 1
}

# --- what reaches the upstream ---------------------------------------------------

start_upstream echo
start_dnsward echo 1 "127.0.0.1:$UP_PORT"
note "echo upstream 127.0.0.1:$UP_PORT, dnsward port $DW_PORT"

out=$(dw_dig +rec +nocdflag +nodnssec +noadflag q1.test TXT)
check_eq "upstream sees RD=1 when the client sets RD" 1 "$(seen rd "$out")"
check_eq "upstream sees AD=1 though the client did not set it (RFC 6840 5.7)" \
    1 "$(seen ad "$out")"
check_match "client without AD or DO gets no AD back" "^;; flags: qr rd ra;" \
    "$(echo "$out" | grep '^;; flags:')"
check_eq "upstream sees CD=0 when the client does not set CD" 0 \
    "$(seen cd "$out")"
check_eq "upstream sees DO=0 when the client does not set DO" 0 \
    "$(seen do "$out")"
cid=$(client_id "$out")
uid=$(seen id "$out")
check_eq "upstream query ID differs from the client's ($cid)" yes \
    "$([ -n "$uid" ] && [ "$uid" != "$cid" ] && echo yes || echo "no ($uid)")"
out=$(dw_dig +norec +cdflag +dnssec q2.test TXT)
check_eq "upstream sees RD=0 when the client clears RD" 0 "$(seen rd "$out")"
check_eq "upstream sees CD=1 when the client sets CD" 1 "$(seen cd "$out")"
check_eq "upstream sees DO=1 when the client sets DO" 1 "$(seen do "$out")"
check_match "client gets RD=0 back" "^;; flags: qr( [a-z]+)*;" \
    "$(echo "$out" | grep '^;; flags:' | grep -v ' rd')"
out=$(dw_dig +tcp +dnssec q3.test TXT)
check_eq "TCP client: upstream sees DO=1" 1 "$(seen do "$out")"
check_ge "upstream query carries EDNS (buffer size)" "$(seen edns "$out")" 512

ports=""
ids=""
for i in 1 2 3 4 5 6 7 8; do
	out=$(dw_dig "p$i.test" TXT)
	ports="$ports $(seen port "$out")"
	ids="$ids $(seen id "$out")"
done
np=$(echo $ports | tr ' ' '\n' | grep -c .)
nd=$(echo $ports | tr ' ' '\n' | sort -u | grep -c .)
check_eq "8 upstream queries answered by the echo upstream" 8 "$np"
check_ge "upstream source ports are random (distinct of 8)" "$nd" 6
nd=$(echo $ids | tr ' ' '\n' | sort -u | grep -c .)
check_ge "upstream query IDs are random (distinct of 8)" "$nd" 7
note "upstream source ports: $ports; IDs: $ids"
stop_dnsward TERM
check_log

# --- spoofed replies ------------------------------------------------------------------

start_upstream spoof
start_dnsward spoof 1 "127.0.0.1:$UP_PORT"
note "spoofing upstream 127.0.0.1:$UP_PORT"
for proto in udp tcp; do
	opt=+notcp
	[ "$proto" = tcp ] && opt=+tcp
	check_eq "$proto client: wrong-ID, wrong-question and wrong-port replies ignored, real one (case flipped) accepted" \
	    192.0.2.99 "$(dw_dig $opt +short spoof.test A)"
done
out=$(dw_q MiXeD.test A --id 1234)
check_match "spoofing upstream: mixed-case client question answered" \
    "^id=1234 rcode=NOERROR .* an=1 .*qname=mixed\.test\. " "$out"
stop_dnsward TERM
check_log
n=$(log_rows answers | grep -c '6\.6\.6\.6')
check_eq "log: no spoofed answer (6.6.6.6) was ever accepted" 0 "$n"

start_upstream badonly
start_dnsward badonly 1 "127.0.0.1:$UP_PORT"
t0=$(now_ms)
out=$(dw_q bad.test A --id 77 --timeout 5000)
t1=$(now_ms)
check_match "upstream sending only spoofed replies: SERVFAIL" \
    "^id=77 rcode=SERVFAIL " "$out"
check_le "spoofed-only upstream: SERVFAIL within timeout + 1 s (ms)" \
    $((t1 - t0)) 1500
stop_dnsward TERM
check_log

# --- TC from upstream: retry over TCP ---------------------------------------------

start_upstream tc
start_dnsward tc 1 "127.0.0.1:$UP_PORT"
note "upstream 127.0.0.1:$UP_PORT truncates every UDP answer"
check_eq "upstream TC=1 over UDP: retried over TCP, UDP client answered" \
    192.0.2.77 "$(dw_dig +notcp +short tc.test A)"
check_eq "upstream TC=1: TCP client answered" 192.0.2.77 \
    "$(dw_dig +tcp +short tc.test A)"
stop_dnsward TERM
check_log

finish
