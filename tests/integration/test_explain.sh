# test_explain.sh -- feeds and policy from the command line: -t with its
# per-feed counts and FILE:LINE reports of bad feed lines, format
# auto-detection, unreadable feeds (-t and start-up fail), feed and policy
# configuration errors, and --explain for blocked, allowed, alerted and
# scoped-out names.
#
# Run: DNSWARD=src/dnsward TOOLS=tests/tools bash tests/integration/test_explain.sh

. "${SRCDIR:-.}/tests/integration/lib.sh"

[ -x "$DNSWARD" ] || bail "daemon binary DNSWARD=$DNSWARD executable" "missing"

C=$WORK/conf
F=$WORK/feeds
mkdir -p "$C" "$F"

# run_dw ARGS...: run the daemon (bounded: 10 s); status in RUN_ST, stdout
# in RUN_OUT, stderr in RUN_ERR.
run_dw() {
	RUN_OUT=$(timeout 10 "$DNSWARD" "$@" 2>"$WORK/run.err")
	RUN_ST=$?
	RUN_ERR=$(cat "$WORK/run.err")
}

# --- feeds ---------------------------------------------------------------------

# malware: 3 entries (lines 3, 4, 9), 3 bad lines (5, 7, 8), 1 duplicate (6).
{
	printf '\357\273\277# malware feed for the tests\n'	# 1 BOM, comment
	printf '\n'						# 2
	printf 'evil.test\n'					# 3
	printf 'MALWARE.TEST.\n'				# 4
	printf 'bad..name.test\n'				# 5 empty label
	printf 'evil.test\n'					# 6 duplicate
	printf 'inv@lid.test\n'					# 7 bad character
	printf '%s.test\n' "$(printf 'a%.0s' $(seq 1 64))"	# 8 label > 63
	printf 'crlf.test\r\n'					# 9 CRLF
} >"$F/malware.txt"
printf '# corporate allow list\ngood.evil.test\n' >"$F/allow.txt"
printf 'scoped.test\n' >"$F/scoped.txt"
# Formats left to auto-detection.
printf '# hosts\n0.0.0.0 ads.test hosts2.test\n127.0.0.1 h3.test\n' \
    >"$F/hosts.txt"
# An exception for a name the list also blocks wins, in either order.
printf '! adblock\n||adblock.test^\n@@||ok.adblock.test^\n||both.test^\n@@||both.test^\n' \
    >"$F/adblock.txt"
cat >"$F/policy.rpz" <<'EOF'
$TTL 300
$ORIGIN rpz.local.
@		SOA	localhost. root.localhost. 1 3600 600 86400 300
@		NS	localhost.
rpz-nx.test	CNAME	.
rpz-a.test	A	192.0.2.77
*.wild.test	CNAME	.
EOF
printf 'plain1.test\nplain2.test\n' >"$F/plain.txt"
# 25 bad lines among 5 good ones.
{
	for i in $(seq 1 25); do
		printf 'bad%d..test\n' "$i"
	done
	for i in $(seq 1 5); do
		printf 'good%d.test\n' "$i"
	done
} >"$F/many.txt"

pick_port P1
pick_port P2
BASE="server:
  listen: [\"127.0.0.1:$P1\"]
  threads: 1
  allow-clients: [\"127.0.0.0/8\"]
resolver:
  mode: forward
  upstreams: [\"127.0.0.1:$P2\"]
log:
  decisions: off"

cat >"$C/good.yaml" <<EOF
$BASE
feeds:
  - { id: malware, path: $F/malware.txt, format: plain }
  - { id: corp-allow, path: $F/allow.txt }
  - { id: scoped, path: $F/scoped.txt }
  - { id: hosts-auto, path: $F/hosts.txt }
  - { id: adblock-auto, path: $F/adblock.txt }
  - { id: rpz-auto, path: $F/policy.rpz }
  - { id: plain-auto, path: $F/plain.txt, format: auto }
  - { id: many, path: $F/many.txt, format: plain }
policy:
  default: allow
  redirection: inspect
  block-ttl: 60s
  groups:
    - name: baseline
      priority: 100
      clients: ["127.0.0.0/8", "::1/128"]
      rules:
        - { name: allow-corp, priority: 10, match: { feed: corp-allow }, action: allow }
        - { name: malware, priority: 20, match: { feed: malware }, action: block, response: nxdomain }
        - { name: rpz, priority: 25, match: { feed: rpz-auto }, action: block }
        - { name: ads, priority: 27, match: { feed: adblock-auto }, action: block }
        - { name: risky-tlds, priority: 30, match: { tld: [zip, mov] }, action: block, response: nodata }
        - { name: txt-watch, priority: 70, match: { qtype: [TXT] }, action: alert }
    - name: scoped
      priority: 50
      clients: ["127.0.0.1/32"]
      rules:
        - { name: scoped-block, priority: 1, match: { feed: scoped }, action: block, response: refused }
EOF

# --- -t: per-feed counts, bad lines as FILE:LINE ------------------------------------

run_dw -t -c "$C/good.yaml"
check_eq "-t with bad feed lines still exits 0" 0 "$RUN_ST"
check_match "-t: feed malware: 3 entries, 3 bad lines" \
    "^feed malware: 3 entries, 3 bad lines" "$RUN_OUT"
check_match "-t: feed corp-allow: 1 entries, 0 bad lines" \
    "^feed corp-allow: 1 entr(y|ies), 0 bad lines" "$RUN_OUT"
for l in 5 7 8; do
	check_match "-t: bad line $l of malware.txt reported as FILE:$l: why" \
	    "^$F/malware\.txt:$l: [^ ]" "$RUN_ERR"
done
for l in 3 4 6 9; do
	check_nomatch "-t: good line $l of malware.txt not reported" \
	    "malware\.txt:$l:" "$RUN_ERR"
done
check_match "-t: many: 5 entries, 25 bad lines" \
    "^feed many: 5 entries, 25 bad lines" "$RUN_OUT"
n=$(printf '%s\n' "$RUN_ERR" | grep -c "many\.txt:[0-9]*: ")
check_ge "-t: many.txt: some bad lines reported" "$n" 1
check_le "-t: many.txt: only the first few bad lines reported" "$n" 10
check_match "-t: hosts feed auto-detected (2 lines, 3 names)" \
    "^feed hosts-auto: 3 entries, 0 bad lines.*hosts" "$RUN_OUT"
check_match "-t: adblock feed auto-detected" \
    "^feed adblock-auto: [0-9]+ entries, 0 bad lines.*adblock" "$RUN_OUT"
check_match "-t: rpz feed auto-detected (3 triggers)" \
    "^feed rpz-auto: 3 entries, 0 bad lines.*rpz" "$RUN_OUT"
check_match "-t: plain feed auto-detected" \
    "^feed plain-auto: 2 entries, 0 bad lines.*plain" "$RUN_OUT"
check_match "-t: the configuration summary line" "configuration OK" \
    "$RUN_OUT"
check_eq "-t does not start listening" "" \
    "$(ss -Hlntu | awk '{print $5}' | grep -E ":$P1\$")"

# --- unreadable feeds ------------------------------------------------------------

cat >"$C/missing.yaml" <<EOF
$BASE
feeds:
  - { id: gone, path: $F/does-not-exist.txt }
policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { feed: gone }, action: block }
EOF
run_dw -t -c "$C/missing.yaml"
check_eq "-t with a missing feed file exits 1" 1 "$RUN_ST"
check_match "-t names the missing feed file" "does-not-exist\.txt" \
    "$RUN_OUT$RUN_ERR"
sed "s|$F/does-not-exist.txt|$F|" "$C/missing.yaml" >"$C/dir.yaml"
run_dw -t -c "$C/dir.yaml"
check_eq "-t with a directory as feed path exits 1" 1 "$RUN_ST"

# The daemon itself: exits 1 with the reason, never serves without its feed.
"$DNSWARD" -c "$C/missing.yaml" >"$WORK/start.out" 2>"$WORK/start.err" &
pid=$!
track "$pid"
wait_exit "$pid" 50
check_eq "start with a missing feed file exits 1 (within 5 s)" 1 "$WAIT_ST"
[ "$WAIT_ST" = running ] && { kill "$pid"; wait_exit "$pid" 20; }
check_match "start with a missing feed: clear message naming the file" \
    "does-not-exist\.txt" "$(cat "$WORK/start.err")"
check_eq "start with a missing feed: nothing listening" "" \
    "$(ss -Hlntu | awk '{print $5}' | grep -E ":$P1\$")"

# --- feed and policy configuration errors (FILE:LINE:COL) --------------------------

bad_conf() {
	local desc=$1 body=$2 re=$3
	printf '%s\n%s\n' "$BASE" "$body" >"$C/bad.yaml"
	run_dw -t -c "$C/bad.yaml"
	check_eq "-t: $desc: exit 1" 1 "$RUN_ST"
	check_match "-t: $desc: FILE:LINE:COL message" \
	    "bad\.yaml:[0-9]+:[0-9]+: .*$re" "$RUN_OUT$RUN_ERR"
}
bad_conf "rule naming an unknown feed" "feeds:
  - { id: a, path: $F/plain.txt }
policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { feed: nosuch }, action: block }" \
    "nosuch"
bad_conf "duplicate feed id" "feeds:
  - { id: a, path: $F/plain.txt }
  - { id: a, path: $F/allow.txt }" "a"
bad_conf "unknown feed format" "feeds:
  - { id: a, path: $F/plain.txt, format: csv }" "csv|format"
bad_conf "unknown action" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { tld: [zip] }, action: deny }" \
    "deny|action"
bad_conf "unknown response" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { tld: [zip] }, action: block, response: sinkhole }" \
    "sinkhole|response"
bad_conf "a response on an allow rule" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { tld: [zip] }, action: allow, response: nxdomain }" \
    "response"
bad_conf "a rule without conditions" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: {}, action: block }" \
    "condition"
bad_conf "two rules with one priority" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r1, priority: 5, match: { tld: [zip] }, action: block }
        - { name: r2, priority: 5, match: { tld: [mov] }, action: block }" \
    "already used|priority"
bad_conf "policy.default neither allow nor block" "policy:
  default: alert" "alert|default"
bad_conf "unknown key in a rule" "policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: r, priority: 1, match: { tld: [zip] }, action: block, colour: red }" \
    "colour"

# --- --explain -------------------------------------------------------------------

run_dw -c "$C/good.yaml" --explain x.evil.test
check_eq "--explain x.evil.test exits 0" 0 "$RUN_ST"
check_match "--explain blocked: final verdict BLOCK" "^verdict: BLOCK" \
    "$RUN_OUT"
check_eq "--explain: exactly one verdict line" 1 \
    "$(printf '%s\n' "$RUN_OUT" | grep -c '^verdict:')"
check_match "--explain blocked: the malware rule MATCH" \
    "malware" "$(printf '%s\n' "$RUN_OUT" | grep -B3 -A3 'MATCH' |
    grep -v 'no match')"
check_match "--explain blocked: the allow-corp rule evaluated, no match" \
    "no match" "$RUN_OUT"
check_match "--explain blocked: feed entry evil.test and its line 3" \
    "evil\.test\.?.*(line |:)3([^0-9]|$)" "$RUN_OUT"
check_match "--explain blocked: group baseline named" "baseline" "$RUN_OUT"
check_nomatch "--explain does not print the -t summary" "configuration OK" \
    "$RUN_OUT"
check_eq "--explain does not start listening" "" \
    "$(ss -Hlntu | awk '{print $5}' | grep -E ":$P1\$")"

run_dw -c "$C/good.yaml" --explain good.evil.test
check_eq "--explain good.evil.test exits 0" 0 "$RUN_ST"
check_match "--explain allowed: final verdict ALLOW" "^verdict: ALLOW" \
    "$RUN_OUT"
check_match "--explain allowed: names the allow-corp rule" "allow-corp" \
    "$(printf '%s\n' "$RUN_OUT" | grep -E 'allow-corp|^verdict')"
check_match "--explain allowed: entry good.evil.test, line 2" \
    "good\.evil\.test\.?.*(line |:)2([^0-9]|$)" "$RUN_OUT"

run_dw -c "$C/good.yaml" --explain host.test
check_match "--explain on no list: verdict ALLOW (default)" \
    "^verdict: ALLOW.*default" "$RUN_OUT"

run_dw -c "$C/good.yaml" --explain scoped.test A --client 127.0.0.2
check_eq "--explain --client 127.0.0.2 exits 0" 0 "$RUN_ST"
check_match "--explain scoped out: group scoped skipped (client)" \
    "scoped.*(not in scope|skip)|(not in scope|skip).*scoped" "$RUN_OUT"
check_match "--explain scoped out: verdict ALLOW" "^verdict: ALLOW" \
    "$RUN_OUT"
run_dw -c "$C/good.yaml" --explain scoped.test --client 127.0.0.1
check_match "--explain scoped in (127.0.0.1): verdict BLOCK" \
    "^verdict: BLOCK" "$RUN_OUT"
check_match "--explain scoped in: names scoped-block" "scoped-block" \
    "$RUN_OUT"

run_dw -c "$C/good.yaml" --explain txt.test TXT
check_match "--explain TXT: txt-watch matches (qtype)" "txt-watch" \
    "$RUN_OUT"
check_match "--explain TXT: verdict ALLOW (alert goes on)" "^verdict: ALLOW" \
    "$RUN_OUT"
run_dw -c "$C/good.yaml" --explain txt.test A
check_nomatch "--explain A: no alert verdict" "^verdict: .*ALERT" "$RUN_OUT"

run_dw -c "$C/good.yaml" --explain foo.zip AAAA
check_match "--explain foo.zip: verdict BLOCK" "^verdict: BLOCK" "$RUN_OUT"
check_match "--explain foo.zip: the TLD is the reason" "zip" \
    "$(printf '%s\n' "$RUN_OUT" | grep -v '^query')"

run_dw -c "$C/good.yaml" --explain x.wild.test
check_match "--explain RPZ *.wild.test: verdict BLOCK" "^verdict: BLOCK" \
    "$RUN_OUT"
check_match "--explain RPZ: entry and its line 7" \
    "wild\.test\.?.*(line |:)7([^0-9]|$)" "$RUN_OUT"

run_dw -c "$C/good.yaml" --explain x.adblock.test
check_match "--explain adblock ||adblock.test^: x.adblock.test BLOCK" \
    "^verdict: BLOCK" "$RUN_OUT"
run_dw -c "$C/good.yaml" --explain both.test
check_match "--explain ||both.test^ then @@||both.test^: exception wins" \
    "^verdict: ALLOW" "$RUN_OUT"
check_match "--explain the exception cites its own line (5, the @@ line)" \
    "both\.test\.?.*(line |:)5([^0-9]|$)" \
    "$(printf '%s\n' "$RUN_OUT" | grep 'entry both')"

run_dw -c "$C/good.yaml" --explain 'bad..name'
check_eq "--explain a bad name exits 1" 1 "$RUN_ST"
run_dw -c "$C/good.yaml" --explain host.test NOSUCHTYPE
check_eq "--explain an unknown type exits 1" 1 "$RUN_ST"
run_dw -c "$C/good.yaml" --explain host.test --client not-an-ip
check_eq "--explain a bad --client exits 1" 1 "$RUN_ST"
run_dw -c "$C/missing.yaml" --explain host.test
check_eq "--explain with a missing feed file exits 1" 1 "$RUN_ST"

# --answer: the answer rules, with addresses given on the command line.
printf '10.0.0.0/8\n2001:db8::/32\n' >"$C/ips.txt"
cat >"$C/aip.yaml" <<EOF
server: { listen: ["127.0.0.1:5999"] }
resolver: { upstreams: ["127.0.0.1:5998"] }
feeds:
  - { id: ips, path: $C/ips.txt, format: ip }
policy:
  groups:
    - name: g
      priority: 1
      rules:
        - { name: bad-ips, priority: 1, match: { answer-ip: ips }, action: block }
EOF
run_dw -c "$C/aip.yaml" --explain www.example.com --answer 192.0.2.1 \
    --answer 10.1.2.3
check_eq "--explain --answer: exits 0" 0 "$RUN_ST"
check_match "--explain --answer: the query phase leaves it to the answer" \
    "decided on the answer's addresses" "$RUN_OUT"
check_match "--explain --answer: the listed address and its prefix and line" \
    "answer address 10\\.1\\.2\\.3 matches \\(answer-ip ips: 10\\.0\\.0\\.0/8, line 1\\)" \
    "$RUN_OUT"
check_match "--explain --answer: verdict BLOCK by bad-ips" \
    "^verdict: BLOCK, answer nxdomain: blocked by rule 'bad-ips'" \
    "$(printf '%s\n' "$RUN_OUT" | tail -n 2)"
run_dw -c "$C/aip.yaml" --explain www.example.com --answer 192.0.2.1
check_eq "--explain --answer with an unlisted address: ALLOW" \
    "verdict: ALLOW (default)" \
    "$(printf '%s\n' "$RUN_OUT" | grep '^verdict' | tail -n 1)"
run_dw -c "$C/aip.yaml" --explain www.example.com
check_match "--explain without --answer says how to check addresses" \
    "give them with --answer IP" "$RUN_OUT"
run_dw -c "$C/aip.yaml" --explain www.example.com --answer 10.1
check_eq "--explain --answer with a bad address exits 1" 1 "$RUN_ST"

finish
