/*
 * check_policy.c -- unit tests for policy.c: group and rule order, first
 * terminating rule, allow/block precedence, alert, client scope, walled
 * garden, ANDed conditions, TLD and qtype rules, feed lists, AdBlock
 * exceptions, RPZ actions, result fields, the redirect phase and explain.
 *
 * Every test writes its YAML, its feeds and a resolv.conf into a fresh
 * mkdtemp directory ("@D@" in the YAML text stands for it), loads them
 * with config_load() and policy_new(), and removes the files before any
 * assertion about the policy.  Group and rule priorities are deliberately
 * listed out of order in the files: only priorities may decide.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "feed.h"
#include "policy.h"
#include "wire.h"

#define T_A	1
#define T_NULL	10
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28

#define CLIENT	"127.0.0.1"

/*
 * Building a configuration and its policy
 */

struct feedfile {
	const char	*name;		/* file name in the test directory */
	const char	*text;
};

struct env {
	char		 dir[64];
	struct config	 cfg;
	struct policy	*p;
	int		 nerr;		/* config errors */
	int		 nreport;	/* bad feed lines reported */
	char		 err[256];
};

static void
report(void *arg, const char *msg)
{
	struct env	*e = arg;

	/* Visible in the test output: a config or feed the test got wrong. */
	fprintf(stderr, "report: %s\n", msg);
	e->nreport++;
}

static void
write_file(const char *dir, const char *name, const char *text, char *path,
    size_t pathsz)
{
	FILE	*f;

	snprintf(path, pathsz, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* yaml with every "@D@" replaced by dir. */
static char *
subst_dir(const char *yaml, const char *dir)
{
	size_t		 n = 0, dl = strlen(dir);
	const char	*s;
	char		*out, *o;

	for (s = yaml; (s = strstr(s, "@D@")) != NULL; s += 3)
		n++;
	out = malloc(strlen(yaml) + n * dl + 1);
	ck_assert_ptr_nonnull(out);
	for (o = out, s = yaml; *s != '\0';) {
		if (strncmp(s, "@D@", 3) == 0) {
			memcpy(o, dir, dl);
			o += dl;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * Load yaml (with feeds) into e.  Both must be valid: a config error or a
 * bad feed line is a mistake of the test.
 */
static void
env_load(struct env *e, const char *yaml, const struct feedfile *feeds,
    int track_lines)
{
	char	 conf[128], rc[128], path[128];
	char	*text;
	size_t	 i;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/dnsward-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	text = subst_dir(yaml, e->dir);
	write_file(e->dir, "dnsward.yaml", text, conf, sizeof(conf));
	free(text);
	write_file(e->dir, "resolv.conf", "nameserver 192.0.2.53\n", rc,
	    sizeof(rc));
	for (i = 0; feeds != NULL && feeds[i].name != NULL; i++)
		write_file(e->dir, feeds[i].name, feeds[i].text, path,
		    sizeof(path));

	e->nerr = config_load(&e->cfg, conf, rc, report, e);
	if (e->nerr == 0)
		e->p = policy_new(&e->cfg, track_lines, report, NULL, e,
		    e->err, sizeof(e->err));

	unlink(conf);
	unlink(rc);
	for (i = 0; feeds != NULL && feeds[i].name != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", e->dir, feeds[i].name);
		unlink(path);
	}
	rmdir(e->dir);

	ck_assert_int_eq(e->nerr, 0);
	if (e->p == NULL)
		ck_abort_msg("policy_new: %s", e->err);
	ck_assert_int_eq(e->nreport, 0);
}

static void
env_free(struct env *e)
{
	policy_free(e->p);
	e->p = NULL;
	config_release(&e->cfg);
}

/*
 * Asking the policy
 */

/* "www.Example.com" -> lower-case wire form; returns its length. */
static size_t
wire_name(const char *text, uint8_t *out)
{
	size_t	 n = 0;

	while (*text != '\0') {
		size_t	 l = strcspn(text, ".");
		size_t	 i;

		ck_assert_uint_gt(l, 0);
		ck_assert_uint_le(l, 63);
		ck_assert_uint_le(n + l + 2, DNS_MAX_NAME);
		out[n++] = (uint8_t)l;
		for (i = 0; i < l; i++) {
			char	 c = text[i];

			out[n++] = (uint8_t)(c >= 'A' && c <= 'Z' ?
			    c - 'A' + 'a' : c);
		}
		text += l;
		if (*text == '.')
			text++;
	}
	out[n++] = 0;
	return n;
}

static void
sockaddr_of(const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(53000);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53000);
	}
}

struct ask {
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 namelen;
	struct sockaddr_storage	 ss;
	struct policy_query	 pq;
	struct policy_result	 res;
};

static void
ask_init(struct ask *a, const char *name, uint16_t qtype, const char *client,
    enum policy_phase phase)
{
	memset(a, 0, sizeof(*a));
	a->namelen = wire_name(name, a->name);
	sockaddr_of(client, &a->ss);
	a->pq.name = a->name;
	a->pq.namelen = a->namelen;
	a->pq.qtype = qtype;
	a->pq.client = (const struct sockaddr *)&a->ss;
	a->pq.phase = phase;
	/* Garbage, so a field the policy forgot to set shows. */
	memset(&a->res, 0xa5, sizeof(a->res));
}

static const struct policy_result *
ask_full(const struct env *e, struct ask *a, const char *name,
    uint16_t qtype, const char *client, enum policy_phase phase)
{
	ask_init(a, name, qtype, client, phase);
	policy_check(e->p, &a->pq, &a->res);
	return &a->res;
}

static const struct policy_result *
ask(const struct env *e, struct ask *a, const char *name, uint16_t qtype)
{
	return ask_full(e, a, name, qtype, CLIENT, POLICY_QUERY);
}

static void
str_eq_or_null(const char *got, const char *want, const char *what)
{
	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: want NULL, got '%s'", what,
		    got);
	else {
		ck_assert_msg(got != NULL, "%s: want '%s', got NULL", what,
		    want);
		ck_assert_msg(strcmp(got, want) == 0, "%s: want '%s', got "
		    "'%s'", what, want, got);
	}
}

/* The name ends allowed (by group/rule, or by default when rule NULL). */
static void
expect_allow(const struct policy_result *r, const char *group,
    const char *rule)
{
	ck_assert_int_eq(r->verdict, POLICY_ALLOW);
	ck_assert_int_eq(r->action, DLOG_ACTION_ALLOW);
	str_eq_or_null(r->group, group, "group");
	str_eq_or_null(r->rule, rule, "rule");
	if (rule == NULL) {
		str_eq_or_null(r->reason, "default", "reason");
		str_eq_or_null(r->feed, NULL, "feed");
	}
}

static void
expect_block(const struct policy_result *r, const char *group,
    const char *rule, enum block_response resp)
{
	ck_assert_int_eq(r->verdict, POLICY_BLOCK);
	ck_assert_int_eq(r->action, DLOG_ACTION_BLOCK);
	str_eq_or_null(r->group, group, "group");
	str_eq_or_null(r->rule, rule, "rule");
	ck_assert_int_eq(r->response, resp);
}

/*
 * Order: groups by priority, rules by priority, first terminating wins
 */

static const struct feedfile order_feeds[] = {
	{ "good.txt", "both.example.com\nonlygood.example.com\n" },
	{ "bad.txt", "both.example.com\nonlybad.example.com\n" },
	{ NULL, NULL }
};

static const char order_yaml[] =
    "feeds:\n"
    "  - { id: good, path: @D@/good.txt, format: plain }\n"
    "  - { id: bad, path: @D@/bad.txt, format: plain }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: late\n"			/* first in the file */
    "      priority: 200\n"
    "      rules:\n"
    "        - { name: late-allow, priority: 1, match: { feed: bad }, "
    "action: allow }\n"
    "        - { name: late-net, priority: 2, match: { tld: net }, "
    "action: block }\n"
    "    - name: early\n"
    "      priority: 100\n"
    "      rules:\n"
    "        - { name: block-bad, priority: 20, match: { feed: bad }, "
    "action: block }\n"
    "        - { name: block-org, priority: 30, match: { tld: org }, "
    "action: block, response: nodata }\n"
    "        - { name: allow-good, priority: 10, match: { feed: good }, "
    "action: allow }\n";

START_TEST(order_groups_and_rules)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e, order_yaml, order_feeds, 0);

	/* allow-good (10) comes before block-bad (20), though listed after. */
	r = ask(&e, &a, "both.example.com", T_A);
	expect_allow(r, "early", "allow-good");
	str_eq_or_null(r->feed, "good", "feed");
	str_eq_or_null(r->reason, "feed", "reason");

	/* Group early (100) before group late (200), though listed after. */
	r = ask(&e, &a, "onlybad.example.com", T_A);
	expect_block(r, "early", "block-bad", RESP_NXDOMAIN);
	r = ask(&e, &a, "x.onlybad.example.com", T_A);
	expect_block(r, "early", "block-bad", RESP_NXDOMAIN);

	/* First terminating rule wins: allowed names skip block-org. */
	r = ask(&e, &a, "onlygood.example.com", T_A);
	expect_allow(r, "early", "allow-good");

	r = ask(&e, &a, "www.example.org", T_A);
	expect_block(r, "early", "block-org", RESP_NODATA);

	/* Nothing in group early decides: group late does. */
	r = ask(&e, &a, "www.example.net", T_A);
	expect_block(r, "late", "late-net", RESP_NXDOMAIN);

	/* Nothing decides: the default. */
	r = ask(&e, &a, "www.example.com", T_A);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}
END_TEST

/*
 * Precedence: an allow at a lower priority number beats a block on a
 * wildcard, and the reverse order does the reverse.
 */

static const struct feedfile wild_feeds[] = {
	{ "allow.txt", "good.example.com\n" },
	{ "wild.txt", "# wildcard: names below only\n*.example.com\n" },
	{ "wild.rpz",
	    "$TTL 300\n"
	    "$ORIGIN rpz.test.\n"
	    "@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60\n"
	    "@ IN NS localhost.\n"
	    "*.example.com CNAME .\n" },
	{ NULL, NULL }
};

static void
precedence(const char *format, int allow_prio, int block_prio)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	char		 yaml[2048];

	snprintf(yaml, sizeof(yaml),
	    "feeds:\n"
	    "  - { id: allow, path: @D@/allow.txt, format: plain }\n"
	    "  - { id: wild, path: @D@/wild.%s, format: %s }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: block-wild, priority: %d, match: { feed: wild },"
	    " action: block }\n"
	    "        - { name: allow-list, priority: %d, match: { feed: allow },"
	    " action: allow }\n",
	    strcmp(format, "rpz") == 0 ? "rpz" : "txt", format, block_prio,
	    allow_prio);
	env_load(&e, yaml, wild_feeds, 0);

	r = ask(&e, &a, "good.example.com", T_A);
	if (allow_prio < block_prio)
		expect_allow(r, "g", "allow-list");
	else {
		expect_block(r, "g", "block-wild", RESP_NXDOMAIN);
		str_eq_or_null(r->feed, "wild", "feed");
		/* The wildcard entry is example.com: 5 bytes in. */
		ck_assert_uint_eq(r->matched_off, 5);
	}

	/* Either way, other names below are blocked... */
	r = ask(&e, &a, "bad.example.com", T_A);
	expect_block(r, "g", "block-wild", RESP_NXDOMAIN);
	r = ask(&e, &a, "a.b.example.com", T_AAAA);
	expect_block(r, "g", "block-wild", RESP_NXDOMAIN);
	/* ...and "*.example.com" does not cover example.com itself. */
	r = ask(&e, &a, "example.com", T_A);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}

START_TEST(precedence_allow_first_plain)
{
	precedence("plain", 10, 20);
}
END_TEST

START_TEST(precedence_block_first_plain)
{
	precedence("plain", 20, 10);
}
END_TEST

START_TEST(precedence_allow_first_rpz)
{
	precedence("rpz", 10, 20);
}
END_TEST

START_TEST(precedence_block_first_rpz)
{
	precedence("rpz", 20, 10);
}
END_TEST

/*
 * Alert logs and goes on
 */

static const char alert_yaml[] =
    "feeds:\n"
    "  - { id: bad, path: @D@/bad.txt, format: plain }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: g2\n"
    "      priority: 20\n"
    "      rules:\n"
    "        - { name: block-bad, priority: 1, match: { feed: bad }, "
    "action: block }\n"
    "    - name: g1\n"
    "      priority: 10\n"
    "      rules:\n"
    "        - { name: block-mx, priority: 30, match: { qtype: MX }, "
    "action: block, response: refused }\n"
    "        - { name: watch-txt, priority: 5, match: { qtype: [TXT, NULL] },"
    " action: alert }\n";

START_TEST(alert_continues)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e, alert_yaml, order_feeds, 0);

	/* Alerted, then allowed by default: the record shows the alert. */
	r = ask(&e, &a, "www.example.com", T_TXT);
	ck_assert_int_eq(r->verdict, POLICY_ALLOW);
	ck_assert_int_eq(r->action, DLOG_ACTION_ALERT);
	str_eq_or_null(r->group, "g1", "group");
	str_eq_or_null(r->rule, "watch-txt", "rule");
	str_eq_or_null(r->reason, "qtype", "reason");
	str_eq_or_null(r->feed, NULL, "feed");

	/* Alerted, then blocked by a later group: a plain block. */
	r = ask(&e, &a, "onlybad.example.com", T_TXT);
	expect_block(r, "g2", "block-bad", RESP_NXDOMAIN);
	ck_assert_int_eq(r->ede, 15);

	/* Not alerted. */
	r = ask(&e, &a, "www.example.com", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "www.example.com", T_MX);
	expect_block(r, "g1", "block-mx", RESP_REFUSED);
	str_eq_or_null(r->reason, "qtype", "reason");

	env_free(&e);
}
END_TEST

/*
 * answer-ip: rules on the answer's addresses
 */

static const struct feedfile aip_feeds[] = {
	{ "ips.txt", "# bad ranges\n10.0.0.0/8\n10.1.2.0/24\n"
	    "2001:db8::/32\n" },
	{ "names.txt", "trusted.example\nbad.example\n" },
	{ NULL, NULL }
};

static const char aip_yaml[] =
    "feeds:\n"
    "  - { id: ips, path: @D@/ips.txt, format: ip }\n"
    "  - { id: names, path: @D@/names.txt }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: g\n"
    "      priority: 10\n"
    "      rules:\n"
    "        - { name: trust, priority: 1, match: { feed: names, qtype: A },"
    " action: allow }\n"
    "        - { name: ips-aaaa, priority: 5, match: { answer-ip: ips, "
    "qtype: AAAA }, action: block, response: nodata }\n"
    "        - { name: ips, priority: 10, match: { answer-ip: ips }, "
    "action: block }\n"
    "        - { name: bad-mx, priority: 20, match: { feed: names, "
    "qtype: MX }, action: block }\n"
    "        - { name: late-ips, priority: 30, match: { answer-ip: ips }, "
    "action: alert }\n";

/* Ask the answer phase with addresses "a,b,..." after query result q. */
static const struct policy_result *
ask_answer(const struct env *e, struct ask *a, const char *name,
    uint16_t qtype, const char *addrs, uint32_t stop)
{
	static struct policy_addr pa[8];
	char	 buf[256], *t, *save = NULL;
	size_t	 n = 0;

	snprintf(buf, sizeof(buf), "%s", addrs);
	for (t = strtok_r(buf, ",", &save); t != NULL && n < 8;
	    t = strtok_r(NULL, ",", &save), n++) {
		memset(&pa[n], 0, sizeof(pa[n]));
		if (inet_pton(AF_INET, t, pa[n].a) == 1)
			pa[n].af = AF_INET;
		else {
			ck_assert_int_eq(inet_pton(AF_INET6, t, pa[n].a), 1);
			pa[n].af = AF_INET6;
		}
	}
	ask_init(a, name, qtype, CLIENT, POLICY_ANSWER);
	a->pq.addrs = pa;
	a->pq.naddrs = n;
	a->pq.stop = stop;
	policy_check(e->p, &a->pq, &a->res);
	return &a->res;
}

START_TEST(answer_ip_rules)
{
	struct env	 e;
	struct ask	 a, q;
	const struct policy_result *r;
	char		 buf[64];

	env_load(&e, aip_yaml, aip_feeds, 1);
	ck_assert_int_eq(policy_has_answer_rules(e.p), 1);

	/* The query phase passes over answer rules: default allow. */
	r = ask(&e, &q, "www.example.com", T_A);
	expect_allow(r, NULL, NULL);
	ck_assert_uint_eq(r->pos, POLICY_POS_END);

	/* The answer: the second address is in 10.1.2.0/24 (longest). */
	r = ask_answer(&e, &a, "www.example.com", T_A, "192.0.2.1,10.1.2.3",
	    q.res.pos);
	expect_block(r, "g", "ips", RESP_NXDOMAIN);
	str_eq_or_null(r->reason, "answer-ip", "reason");
	str_eq_or_null(r->feed, "ips", "feed");
	ck_assert_int_eq(r->addr_af, AF_INET);
	inet_ntop(AF_INET, r->addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.1.2.3");
	ck_assert_uint_eq(r->plen, 24);
	ck_assert_uint_eq(r->line, 3);
	ck_assert_uint_eq(r->matched_off, 0);

	/* Other conditions are ANDed: AAAA gets its own rule's response. */
	r = ask_answer(&e, &a, "www.example.com", T_AAAA, "2001:db8::5",
	    POLICY_POS_END);
	expect_block(r, "g", "ips-aaaa", RESP_NODATA);
	ck_assert_int_eq(r->addr_af, AF_INET6);

	/* Nothing listed: no rule; the default does not apply. */
	r = ask_answer(&e, &a, "www.example.com", T_A, "192.0.2.1,11.0.0.1",
	    POLICY_POS_END);
	expect_allow(r, NULL, NULL);
	ck_assert_int_eq(r->addr_af, 0);

	/* A higher-ranked allow decided the query: answer rules after it
	 * do not apply. */
	r = ask(&e, &q, "trusted.example", T_A);
	expect_allow(r, "g", "trust");
	r = ask_answer(&e, &a, "trusted.example", T_A, "10.0.0.1", q.res.pos);
	expect_allow(r, NULL, NULL);

	/* A lower-ranked rule that decided does not shield the answer:
	 * bad.example MX is blocked by name before resolution anyway; an
	 * alert ranked after the stop is not asked either. */
	r = ask(&e, &q, "bad.example", T_MX);
	expect_block(r, "g", "bad-mx", RESP_NXDOMAIN);

	/* The alert rule (priority 30) logs when nothing blocked first. */
	r = ask_answer(&e, &a, "trusted.example", T_TXT, "10.9.9.9",
	    POLICY_POS_END);
	ck_assert_int_eq(r->verdict, POLICY_BLOCK);	/* rule ips, prio 10 */
	str_eq_or_null(r->rule, "ips", "rule");

	/* Redirect and query phases never use answer rules. */
	r = ask_full(&e, &a, "www.example.com", T_A, CLIENT, POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}
END_TEST

static const char aip_alert_yaml[] =
    "feeds:\n"
    "  - { id: ips, path: @D@/ips.txt, format: ip }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: g\n"
    "      priority: 10\n"
    "      rules:\n"
    "        - { name: watch, priority: 1, match: { answer-ip: ips }, "
    "action: alert }\n";

/*
 * Which record comes first is the answering zone's choice: a passthru on
 * one address must not let a blocked address of the same answer through.
 */
static const struct feedfile aip_rpz_feeds[] = {
	{ "ips.rpz", "$TTL 60\n@ SOA localhost. root.localhost. 1 1 1 1 1\n"
	    "  NS localhost.\n"
	    "32.9.113.0.203.rpz-ip CNAME .\n"
	    "24.0.100.51.198.rpz-ip CNAME rpz-passthru.\n" },
	{ NULL, NULL }
};

static const char aip_rpz_yaml[] =
    "feeds:\n"
    "  - { id: rpz, path: @D@/ips.rpz, format: rpz }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: g\n"
    "      priority: 10\n"
    "      rules:\n"
    "        - { name: r, priority: 1, match: { answer-ip: rpz }, "
    "action: block }\n";

START_TEST(answer_ip_order)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	char		 buf[64];

	env_load(&e, aip_rpz_yaml, aip_rpz_feeds, 0);
	r = ask_answer(&e, &a, "x.example", T_A, "198.51.100.1,203.0.113.9",
	    POLICY_POS_END);
	expect_block(r, "g", "r", RESP_NXDOMAIN);
	inet_ntop(AF_INET, r->addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "203.0.113.9");
	r = ask_answer(&e, &a, "x.example", T_A, "203.0.113.9,198.51.100.1",
	    POLICY_POS_END);
	expect_block(r, "g", "r", RESP_NXDOMAIN);
	/* Passthru alone: allowed by the rule. */
	r = ask_answer(&e, &a, "x.example", T_A, "198.51.100.1",
	    POLICY_POS_END);
	ck_assert_int_eq(r->verdict, POLICY_ALLOW);
	str_eq_or_null(r->rule, "r", "rule");
	env_free(&e);
}
END_TEST

/* Several answer conditions hold for one and the same address. */
START_TEST(answer_conditions_same_address)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	char		 yaml[1024], buf[64];
	const char	*src = getenv("SRCDIR");

	snprintf(yaml, sizeof(yaml),
	    "feeds:\n"
	    "  - { id: ips, path: @D@/ips.txt, format: ip }\n"
	    "geo: { country-db: %s/tests/data/mmdb/maxmind-test/"
	    "GeoLite2-Country-Test.mmdb }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 10\n"
	    "      rules:\n"
	    "        - { name: r, priority: 1, match: { answer-ip: ips, "
	    "answer-country: [GB] }, action: block }\n",
	    src != NULL ? src : ".");
	env_load(&e, yaml, aip_feeds, 0);
	/* 10.1.1.1 is listed but nowhere; 81.2.69.142 is GB, not listed. */
	r = ask_answer(&e, &a, "x.example", T_A, "10.1.1.1,81.2.69.142",
	    POLICY_POS_END);
	expect_allow(r, NULL, NULL);
	r = ask_answer(&e, &a, "x.example", T_A, "81.2.69.142,10.1.1.1",
	    POLICY_POS_END);
	expect_allow(r, NULL, NULL);
	/* An address both listed and in GB: 10/8 is not, so list GB's. */
	env_free(&e);

	snprintf(yaml, sizeof(yaml),
	    "feeds:\n"
	    "  - { id: ips, path: @D@/gb.txt, format: ip }\n"
	    "geo: { country-db: %s/tests/data/mmdb/maxmind-test/"
	    "GeoLite2-Country-Test.mmdb }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 10\n"
	    "      rules:\n"
	    "        - { name: r, priority: 1, match: { answer-ip: ips, "
	    "answer-country: [GB] }, action: block }\n",
	    src != NULL ? src : ".");
	{
		static const struct feedfile gb[] = {
			{ "gb.txt", "81.2.69.0/24\n10.0.0.0/8\n" },
			{ NULL, NULL }
		};

		env_load(&e, yaml, gb, 0);
	}
	r = ask_answer(&e, &a, "x.example", T_A, "10.1.1.1,81.2.69.142",
	    POLICY_POS_END);
	expect_block(r, "g", "r", RESP_NXDOMAIN);
	inet_ntop(AF_INET, r->addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "81.2.69.142");
	ck_assert_str_eq(r->country, "GB");
	ck_assert_uint_eq(r->plen, 24);
	env_free(&e);
}
END_TEST

START_TEST(answer_ip_alert)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e, aip_alert_yaml, aip_feeds, 0);
	r = ask_answer(&e, &a, "x.example", T_A, "10.0.0.1", POLICY_POS_END);
	ck_assert_int_eq(r->verdict, POLICY_ALLOW);
	ck_assert_int_eq(r->action, DLOG_ACTION_ALERT);
	str_eq_or_null(r->rule, "watch", "rule");
	ck_assert_int_eq(r->addr_af, AF_INET);
	ck_assert_uint_eq(r->plen, 8);
	env_free(&e);
}
END_TEST

/*
 * An alert rule is a dry run: whatever its feed's entry says, it must not
 * decide.  An RPZ rpz-passthru entry in the feed of an alert rule must not
 * stop the evaluation (and let through names a later rule blocks).
 */
static const struct feedfile alert_rpz_feeds[] = {
	{ "watch.rpz",
	    "$TTL 300\n"
	    "$ORIGIN rpz.test.\n"
	    "@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60\n"
	    "@ IN NS localhost.\n"
	    "pass.example.com CNAME rpz-passthru.\n" },
	{ "bad.txt", "pass.example.com\n" },
	{ NULL, NULL }
};

START_TEST(alert_passthru_does_not_decide)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: watch, path: @D@/watch.rpz, format: rpz }\n"
	    "  - { id: bad, path: @D@/bad.txt, format: plain }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: block-bad, priority: 20, match: { feed: bad }, "
	    "action: block }\n"
	    "        - { name: watch, priority: 10, match: { feed: watch }, "
	    "action: alert }\n", alert_rpz_feeds, 0);

	r = ask(&e, &a, "pass.example.com", T_A);
	expect_block(r, "g", "block-bad", RESP_NXDOMAIN);

	env_free(&e);
}
END_TEST

/*
 * Client scope
 */

static const char scope_yaml[] =
    "feeds:\n"
    "  - { id: bad, path: @D@/bad.txt, format: plain }\n"
    "policy:\n"
    "  groups:\n"
    "    - name: vnet-b\n"
    "      priority: 20\n"
    "      clients: [10.2.0.0/16, \"fd00:2::/64\"]\n"
    "      rules:\n"
    "        - { name: zip, priority: 1, match: { tld: zip }, "
    "action: block }\n"
    "    - name: vnet-a\n"
    "      priority: 10\n"
    "      clients: [10.1.0.0/16, \"fd00:1::/64\"]\n"
    "      rules:\n"
    "        - { name: block-bad, priority: 1, match: { feed: bad }, "
    "action: block }\n"
    "    - name: everyone\n"
    "      priority: 30\n"
    "      rules:\n"
    "        - { name: mov, priority: 1, match: { tld: mov }, "
    "action: block }\n";

START_TEST(client_scope)
{
	static const char *const in_a[] = {
		"10.1.2.3", "10.1.255.255", "fd00:1::5", "::ffff:10.1.0.9"
	};
	static const char *const out_a[] = {
		"10.2.0.1", "10.0.0.1", "127.0.0.1", "fd00:2::5", "fd00:1:0:1::5",
		"::1"
	};
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	size_t		 i;

	env_load(&e, scope_yaml, order_feeds, 0);

	for (i = 0; i < sizeof(in_a) / sizeof(in_a[0]); i++) {
		r = ask_full(&e, &a, "onlybad.example.com", T_A, in_a[i],
		    POLICY_QUERY);
		ck_assert_msg(r->verdict == POLICY_BLOCK, "client %s", in_a[i]);
		expect_block(r, "vnet-a", "block-bad", RESP_NXDOMAIN);
	}
	for (i = 0; i < sizeof(out_a) / sizeof(out_a[0]); i++) {
		r = ask_full(&e, &a, "onlybad.example.com", T_A, out_a[i],
		    POLICY_QUERY);
		ck_assert_msg(r->verdict == POLICY_ALLOW, "client %s", out_a[i]);
		expect_allow(r, NULL, NULL);
	}

	/* vnet-b's rule for its clients only. */
	r = ask_full(&e, &a, "x.zip", T_A, "10.2.9.9", POLICY_QUERY);
	expect_block(r, "vnet-b", "zip", RESP_NXDOMAIN);
	r = ask_full(&e, &a, "x.zip", T_A, "fd00:2::1", POLICY_QUERY);
	expect_block(r, "vnet-b", "zip", RESP_NXDOMAIN);
	r = ask_full(&e, &a, "x.zip", T_A, "10.1.2.3", POLICY_QUERY);
	expect_allow(r, NULL, NULL);

	/* An unscoped group applies to every client. */
	for (i = 0; i < sizeof(in_a) / sizeof(in_a[0]); i++) {
		r = ask_full(&e, &a, "x.mov", T_A, in_a[i], POLICY_QUERY);
		expect_block(r, "everyone", "mov", RESP_NXDOMAIN);
	}
	for (i = 0; i < sizeof(out_a) / sizeof(out_a[0]); i++) {
		r = ask_full(&e, &a, "x.mov", T_A, out_a[i], POLICY_QUERY);
		expect_block(r, "everyone", "mov", RESP_NXDOMAIN);
	}

	env_free(&e);
}
END_TEST

/*
 * Walled garden: an explicit allow list and default block
 */

START_TEST(walled_garden)
{
	static const struct feedfile feeds[] = {
		{ "allow.txt", "corp.example\nupdates.vendor.example\n" },
		{ NULL, NULL }
	};
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: corp-allow, path: @D@/allow.txt }\n"
	    "policy:\n"
	    "  default: block\n"
	    "  block-ttl: 30s\n"
	    "  groups:\n"
	    "    - name: garden\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: allow-list, priority: 1, match: "
	    "{ feed: corp-allow }, action: allow }\n", feeds, 0);

	r = ask(&e, &a, "corp.example", T_A);
	expect_allow(r, "garden", "allow-list");
	str_eq_or_null(r->feed, "corp-allow", "feed");
	r = ask(&e, &a, "www.corp.example", T_AAAA);
	expect_allow(r, "garden", "allow-list");
	r = ask(&e, &a, "updates.vendor.example", T_A);
	expect_allow(r, "garden", "allow-list");

	r = ask(&e, &a, "vendor.example", T_A);
	ck_assert_int_eq(r->verdict, POLICY_BLOCK);
	ck_assert_int_eq(r->action, DLOG_ACTION_BLOCK);
	ck_assert_int_eq(r->response, RESP_NXDOMAIN);
	ck_assert_int_eq(r->ede, 17);
	ck_assert_uint_eq(r->ttl, 30);
	str_eq_or_null(r->reason, "default", "reason");
	str_eq_or_null(r->rule, NULL, "rule");
	str_eq_or_null(r->group, NULL, "group");
	str_eq_or_null(r->feed, NULL, "feed");
	ck_assert_ptr_null(r->rrs);
	ck_assert_uint_eq(r->nrrs, 0);

	r = ask(&e, &a, "www.example.com", T_TXT);
	ck_assert_int_eq(r->verdict, POLICY_BLOCK);
	ck_assert_int_eq(r->ede, 17);

	env_free(&e);
}
END_TEST

/*
 * Conditions are ANDed; TLD and qtype rules
 */

START_TEST(conditions_anded)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: bad, path: @D@/bad.txt, format: plain }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: bad-a, priority: 2, match: { feed: bad, "
	    "qtype: A }, action: block }\n"
	    "        - { name: zip-txt, priority: 1, match: { tld: zip, "
	    "qtype: [TXT, MX] }, action: block, response: nodata }\n"
	    "        - { name: zip-bad, priority: 3, match: { tld: [zip], "
	    "feed: bad }, action: block, response: refused }\n",
	    (const struct feedfile[]){
		{ "bad.txt", "onlybad.example.com\nbad.zip\n" },
		{ NULL, NULL } }, 0);

	r = ask(&e, &a, "onlybad.example.com", T_A);
	expect_block(r, "g", "bad-a", RESP_NXDOMAIN);
	str_eq_or_null(r->reason, "feed", "reason");
	r = ask(&e, &a, "onlybad.example.com", T_AAAA);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "www.example.com", T_A);
	expect_allow(r, NULL, NULL);

	r = ask(&e, &a, "x.zip", T_TXT);
	expect_block(r, "g", "zip-txt", RESP_NODATA);
	str_eq_or_null(r->reason, "tld", "reason");
	r = ask(&e, &a, "x.zip", T_MX);
	expect_block(r, "g", "zip-txt", RESP_NODATA);
	r = ask(&e, &a, "x.zip", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "x.zip.com", T_TXT);
	expect_allow(r, NULL, NULL);

	/* tld and feed: only names of the feed under .zip. */
	r = ask(&e, &a, "www.bad.zip", T_AAAA);
	expect_block(r, "g", "zip-bad", RESP_REFUSED);
	str_eq_or_null(r->feed, "bad", "feed");
	r = ask(&e, &a, "good.zip", T_AAAA);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}
END_TEST

START_TEST(tld_rules)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "policy:\n"
	    "  block-ttl: 2m\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: risky-tlds, priority: 30, match: "
	    "{ tld: [zip, .MOV, xn--p1ai] }, action: block, response: nodata }\n",
	    NULL, 0);

	r = ask(&e, &a, "a.b.zip", T_A);
	expect_block(r, "g", "risky-tlds", RESP_NODATA);
	str_eq_or_null(r->reason, "tld", "reason");
	str_eq_or_null(r->feed, NULL, "feed");
	ck_assert_uint_eq(r->matched_off, 0);
	ck_assert_uint_eq(r->ttl, 120);
	ck_assert_int_eq(r->ede, 15);
	r = ask(&e, &a, "zip", T_A);
	expect_block(r, "g", "risky-tlds", RESP_NODATA);
	r = ask(&e, &a, "Film.MOV", T_A);
	expect_block(r, "g", "risky-tlds", RESP_NODATA);
	r = ask(&e, &a, "xn--80a.xn--p1ai", T_A);
	expect_block(r, "g", "risky-tlds", RESP_NODATA);

	r = ask(&e, &a, "zip.com", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "zipp", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "mo", T_A);
	expect_allow(r, NULL, NULL);

	/* The root has no TLD. */
	ask_init(&a, "", T_A, CLIENT, POLICY_QUERY);
	ck_assert_uint_eq(a.namelen, 1);
	policy_check(e.p, &a.pq, &a.res);
	expect_allow(&a.res, NULL, NULL);

	env_free(&e);
}
END_TEST

START_TEST(qtype_rules)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: no-txt, priority: 1, match: "
	    "{ qtype: [TXT, NULL, TYPE65280] }, action: block, response: nodata }\n",
	    NULL, 0);

	r = ask(&e, &a, "www.example.com", T_TXT);
	expect_block(r, "g", "no-txt", RESP_NODATA);
	str_eq_or_null(r->reason, "qtype", "reason");
	ck_assert_uint_eq(r->matched_off, 0);
	r = ask(&e, &a, "www.example.com", T_NULL);
	expect_block(r, "g", "no-txt", RESP_NODATA);
	r = ask(&e, &a, "www.example.com", 65280);
	expect_block(r, "g", "no-txt", RESP_NODATA);
	r = ask(&e, &a, "www.example.com", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "www.example.com", 255);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}
END_TEST

/*
 * Feed lists and AdBlock exceptions
 */

START_TEST(feed_list)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: f1, path: @D@/f1.txt, format: plain }\n"
	    "  - { id: f2, path: @D@/f2.txt, format: hosts }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: lists, priority: 1, match: { feed: [f1, f2] }, "
	    "action: block }\n",
	    (const struct feedfile[]){
		{ "f1.txt", "one.example\n" },
		{ "f2.txt", "0.0.0.0 two.example\n0.0.0.0 also.example\n" },
		{ NULL, NULL } }, 0);

	r = ask(&e, &a, "one.example", T_A);
	expect_block(r, "g", "lists", RESP_NXDOMAIN);
	str_eq_or_null(r->feed, "f1", "feed");
	r = ask(&e, &a, "two.example", T_A);
	expect_block(r, "g", "lists", RESP_NXDOMAIN);
	str_eq_or_null(r->feed, "f2", "feed");
	r = ask(&e, &a, "also.example", T_A);
	str_eq_or_null(r->feed, "f2", "feed");
	/* hosts entries are exact. */
	r = ask(&e, &a, "www.two.example", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "three.example", T_A);
	expect_allow(r, NULL, NULL);

	env_free(&e);
}
END_TEST

START_TEST(adblock_exception)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: ads, path: @D@/ads.txt, format: adblock }\n"
	    "  - { id: extra, path: @D@/extra.txt, format: plain }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: ads, priority: 1, match: { feed: ads }, "
	    "action: block }\n"
	    "        - { name: both, priority: 2, match: { feed: [ads, extra] },"
	    " action: block, response: refused }\n",
	    (const struct feedfile[]){
		{ "ads.txt", "! adblock list\n||ads.example^\n"
		    "@@||ok.ads.example^\n" },
		{ "extra.txt", "deep.ok.ads.example\n" },
		{ NULL, NULL } }, 0);

	r = ask(&e, &a, "ads.example", T_A);
	expect_block(r, "g", "ads", RESP_NXDOMAIN);
	r = ask(&e, &a, "x.ads.example", T_A);
	expect_block(r, "g", "ads", RESP_NXDOMAIN);
	ck_assert_uint_eq(r->matched_off, 2);

	/* The exception: the rule does not match. */
	r = ask(&e, &a, "ok.ads.example", T_A);
	expect_allow(r, NULL, NULL);
	r = ask(&e, &a, "a.ok.ads.example", T_A);
	expect_allow(r, NULL, NULL);

	/* Excepted in the first feed, listed in the second. */
	r = ask(&e, &a, "deep.ok.ads.example", T_A);
	expect_block(r, "g", "both", RESP_REFUSED);
	str_eq_or_null(r->feed, "extra", "feed");

	env_free(&e);
}
END_TEST

/*
 * RPZ entry actions
 */

static const struct feedfile rpz_feeds[] = {
	{ "policy.rpz",
	    "$TTL 300\n"						/* 1 */
	    "$ORIGIN rpz.test.\n"					/* 2 */
	    "@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60\n"
	    "@ IN NS localhost.\n"					/* 4 */
	    "; triggers\n"						/* 5 */
	    "nx.example.com CNAME .\n"					/* 6 */
	    "nodata.example.com CNAME *.\n"				/* 7 */
	    "drop.example.com CNAME rpz-drop.\n"			/* 8 */
	    "pass.example.com CNAME rpz-passthru.\n"			/* 9 */
	    "local.example.com 120 A 192.0.2.7\n"			/* 10 */
	    "local.example.com 120 AAAA 2001:db8::7\n"			/* 11 */
	    "cn.example.com 90 CNAME target.example.net.\n"		/* 12 */
	    "*.wild.example.com CNAME .\n" },				/* 13 */
	{ NULL, NULL }
};

static char *
rpz_yaml(const char *response, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz,
	    "feeds:\n"
	    "  - { id: rpz, path: @D@/policy.rpz, format: rpz }\n"
	    "policy:\n"
	    "  block-ttl: 45\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: com, priority: 20, match: { tld: com }, "
	    "action: block, response: refused }\n"
	    "        - { name: rpz, priority: 10, match: { feed: rpz }, "
	    "action: block%s%s }\n",
	    response != NULL ? ", response: " : "",
	    response != NULL ? response : "");
	return buf;
}

START_TEST(rpz_actions)
{
	static const uint8_t target[] =
	    "\x06target\x07" "example\x03net";	/* + root */
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	char		 yaml[2048];
	size_t		 i;
	int		 sawa = 0, sawaaaa = 0;

	env_load(&e, rpz_yaml(NULL, yaml, sizeof(yaml)), rpz_feeds, 0);

	r = ask(&e, &a, "nx.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_NXDOMAIN);
	str_eq_or_null(r->feed, "rpz", "feed");
	r = ask(&e, &a, "nodata.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_NODATA);
	r = ask(&e, &a, "drop.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_DROP);

	/* rpz-passthru: allowed; the later tld rule does not run. */
	r = ask(&e, &a, "pass.example.com", T_A);
	expect_allow(r, "g", "rpz");
	str_eq_or_null(r->feed, "rpz", "feed");

	/* RPZ triggers are exact: names below fall to the tld rule. */
	r = ask(&e, &a, "www.nx.example.com", T_A);
	expect_block(r, "g", "com", RESP_REFUSED);

	r = ask(&e, &a, "local.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_OVERRIDE);
	ck_assert_ptr_null(r->override);
	ck_assert_ptr_nonnull(r->rrs);
	ck_assert_uint_eq(r->nrrs, 2);
	for (i = 0; i < r->nrrs; i++) {
		if (r->rrs[i].type == T_A) {
			ck_assert_uint_eq(r->rrs[i].rdlen, 4);
			ck_assert_mem_eq(r->rrs[i].rdata, "\xc0\x00\x02\x07", 4);
			ck_assert_uint_eq(r->rrs[i].ttl, 120);
			sawa++;
		} else {
			ck_assert_uint_eq(r->rrs[i].type, T_AAAA);
			ck_assert_uint_eq(r->rrs[i].rdlen, 16);
			ck_assert_mem_eq(r->rrs[i].rdata, "\x20\x01\x0d\xb8"
			    "\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
			sawaaaa++;
		}
	}
	ck_assert_int_eq(sawa, 1);
	ck_assert_int_eq(sawaaaa, 1);

	r = ask(&e, &a, "cn.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_OVERRIDE);
	ck_assert_uint_eq(r->nrrs, 1);
	ck_assert_uint_eq(r->rrs[0].type, 5);
	ck_assert_uint_eq(r->rrs[0].ttl, 90);
	ck_assert_uint_eq(r->rrs[0].rdlen, sizeof(target));
	ck_assert_mem_eq(r->rrs[0].rdata, target, sizeof(target));

	r = ask(&e, &a, "x.wild.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_NXDOMAIN);
	ck_assert_uint_eq(r->matched_off, 2);
	r = ask(&e, &a, "wild.example.com", T_A);
	expect_block(r, "g", "com", RESP_REFUSED);

	env_free(&e);
}
END_TEST

/* A response written in the rule wins over the entry's RPZ action. */
START_TEST(rpz_explicit_response)
{
	static const char *const names[] = {
		"nx.example.com", "nodata.example.com", "drop.example.com",
		"local.example.com", "cn.example.com", "x.wild.example.com"
	};
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	char		 yaml[2048];
	size_t		 i;

	env_load(&e, rpz_yaml("nodata", yaml, sizeof(yaml)), rpz_feeds, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = ask(&e, &a, names[i], T_A);
		ck_assert_msg(r->response == RESP_NODATA, "%s: response %d",
		    names[i], r->response);
		expect_block(r, "g", "rpz", RESP_NODATA);
		ck_assert_uint_eq(r->nrrs, 0);
	}
	/*
	 * rpz-passthru still exempts the name: the rule's response says how
	 * to block, the entry says whether.
	 */
	r = ask(&e, &a, "pass.example.com", T_A);
	expect_allow(r, "g", "rpz");
	env_free(&e);

	env_load(&e, rpz_yaml("{ override: { a: 192.0.2.99, ttl: 5 } }", yaml,
	    sizeof(yaml)), rpz_feeds, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = ask(&e, &a, names[i], T_A);
		expect_block(r, "g", "rpz", RESP_OVERRIDE);
		ck_assert_ptr_nonnull(r->override);
		ck_assert_uint_eq(r->override->na, 1);
		ck_assert_mem_eq(r->override->a[0], "\xc0\x00\x02\x63", 4);
		ck_assert_uint_eq(r->override->ttl, 5);
		ck_assert_ptr_null(r->rrs);
		ck_assert_uint_eq(r->nrrs, 0);
	}
	env_free(&e);

	env_load(&e, rpz_yaml("auto", yaml, sizeof(yaml)), rpz_feeds, 0);
	r = ask(&e, &a, "nodata.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_NODATA);
	r = ask(&e, &a, "drop.example.com", T_A);
	expect_block(r, "g", "rpz", RESP_DROP);
	env_free(&e);
}
END_TEST

/*
 * Result fields
 */

START_TEST(result_fields)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;
	int		 track;

	for (track = 0; track <= 1; track++) {
		env_load(&e,
		    "feeds:\n"
		    "  - { id: malware, path: @D@/malware.txt, format: plain }\n"
		    "policy:\n"
		    "  block-ttl: 1h\n"
		    "  groups:\n"
		    "    - name: baseline\n"
		    "      priority: 100\n"
		    "      rules:\n"
		    "        - { name: malware, priority: 20, match: "
		    "{ feed: malware }, action: block, response: nxdomain }\n",
		    (const struct feedfile[]){
			{ "malware.txt", "# malware\n\nevil.example\n"
			    "c2.evil.example\nbad.example\n" },
			{ NULL, NULL } }, track);

		r = ask(&e, &a, "www.bad.example", T_A);
		expect_block(r, "baseline", "malware", RESP_NXDOMAIN);
		str_eq_or_null(r->feed, "malware", "feed");
		str_eq_or_null(r->reason, "feed", "reason");
		ck_assert_uint_eq(r->matched_off, 4);
		ck_assert_uint_eq(r->line, track ? 5 : 0);
		ck_assert_uint_eq(r->ttl, 3600);
		ck_assert_int_eq(r->ede, 15);
		ck_assert_ptr_null(r->rrs);
		ck_assert_uint_eq(r->nrrs, 0);

		/* The most specific entry. */
		r = ask(&e, &a, "x.c2.evil.example", T_A);
		ck_assert_uint_eq(r->matched_off, 2);
		ck_assert_uint_eq(r->line, track ? 4 : 0);
		r = ask(&e, &a, "evil.example", T_A);
		ck_assert_uint_eq(r->matched_off, 0);
		ck_assert_uint_eq(r->line, track ? 3 : 0);

		/* Allowed by default: no rule, no feed, no block fields. */
		r = ask(&e, &a, "good.example", T_A);
		expect_allow(r, NULL, NULL);
		ck_assert_uint_eq(r->matched_off, 0);
		ck_assert_ptr_null(r->rrs);

		env_free(&e);
	}
}
END_TEST

/*
 * The redirect phase (CNAME/DNAME targets)
 */

static const struct feedfile redir_feeds[] = {
	{ "bad.txt", "tracker.example\n" },
	{ "trusted.txt", "cdn.example\n" },
	{ NULL, NULL }
};

START_TEST(redirect_phase)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: bad, path: @D@/bad.txt }\n"
	    "  - { id: trusted, path: @D@/trusted.txt }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: no-txt, priority: 5, match: { qtype: TXT }, "
	    "action: block }\n"
	    "        - { name: bad, priority: 10, match: { feed: bad }, "
	    "action: block }\n"
	    "        - { name: cdn, priority: 20, match: { feed: trusted }, "
	    "action: block, redirection: trust }\n"
	    "        - { name: zip, priority: 30, match: { tld: zip }, "
	    "action: block, response: nodata }\n", redir_feeds, 0);

	r = ask_full(&e, &a, "x.tracker.example", T_A, CLIENT,
	    POLICY_REDIRECT);
	expect_block(r, "g", "bad", RESP_NXDOMAIN);
	str_eq_or_null(r->feed, "bad", "feed");
	ck_assert_uint_eq(r->matched_off, 2);
	r = ask_full(&e, &a, "a.zip", T_A, CLIENT, POLICY_REDIRECT);
	expect_block(r, "g", "zip", RESP_NODATA);

	/* A rule with `redirection: trust` matches the query name only. */
	r = ask_full(&e, &a, "www.cdn.example", T_A, CLIENT, POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);
	r = ask_full(&e, &a, "www.cdn.example", T_A, CLIENT, POLICY_QUERY);
	expect_block(r, "g", "cdn", RESP_NXDOMAIN);

	/* Rules without a name condition do not take part. */
	r = ask_full(&e, &a, "www.example.org", T_TXT, CLIENT,
	    POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);
	r = ask_full(&e, &a, "tracker.example", T_TXT, CLIENT,
	    POLICY_REDIRECT);
	expect_block(r, "g", "bad", RESP_NXDOMAIN);
	r = ask_full(&e, &a, "www.example.org", T_TXT, CLIENT, POLICY_QUERY);
	expect_block(r, "g", "no-txt", RESP_NXDOMAIN);

	env_free(&e);
}
END_TEST

START_TEST(redirect_trust_global)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: bad, path: @D@/bad.txt }\n"
	    "  - { id: trusted, path: @D@/trusted.txt }\n"
	    "policy:\n"
	    "  redirection: trust\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: bad, priority: 10, match: { feed: bad }, "
	    "action: block }\n"
	    "        - { name: inspect, priority: 20, match: "
	    "{ feed: trusted }, action: block, redirection: inspect }\n"
	    "        - { name: zip, priority: 30, match: { tld: zip }, "
	    "action: block }\n", redir_feeds, 0);

	r = ask_full(&e, &a, "tracker.example", T_A, CLIENT, POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);
	r = ask_full(&e, &a, "a.zip", T_A, CLIENT, POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);
	r = ask_full(&e, &a, "tracker.example", T_A, CLIENT, POLICY_QUERY);
	expect_block(r, "g", "bad", RESP_NXDOMAIN);

	/* The rule's own `redirection: inspect` beats the global trust. */
	r = ask_full(&e, &a, "www.cdn.example", T_A, CLIENT, POLICY_REDIRECT);
	expect_block(r, "g", "inspect", RESP_NXDOMAIN);

	env_free(&e);
}
END_TEST

START_TEST(redirect_no_default_block)
{
	struct env	 e;
	struct ask	 a;
	const struct policy_result *r;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: allow, path: @D@/trusted.txt }\n"
	    "  - { id: bad, path: @D@/bad.txt }\n"
	    "policy:\n"
	    "  default: block\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: allow, priority: 1, match: { feed: allow }, "
	    "action: allow }\n"
	    "        - { name: bad, priority: 2, match: { feed: bad }, "
	    "action: block, response: refused }\n", redir_feeds, 0);

	r = ask_full(&e, &a, "elsewhere.example", T_A, CLIENT,
	    POLICY_REDIRECT);
	expect_allow(r, NULL, NULL);
	r = ask_full(&e, &a, "elsewhere.example", T_A, CLIENT, POLICY_QUERY);
	ck_assert_int_eq(r->verdict, POLICY_BLOCK);
	ck_assert_int_eq(r->ede, 17);
	/* A rule still blocks a target. */
	r = ask_full(&e, &a, "tracker.example", T_A, CLIENT, POLICY_REDIRECT);
	expect_block(r, "g", "bad", RESP_REFUSED);
	r = ask_full(&e, &a, "x.cdn.example", T_A, CLIENT, POLICY_REDIRECT);
	expect_allow(r, "g", "allow");

	env_free(&e);
}
END_TEST

/*
 * Explain
 */

static char *
explain(const struct env *e, const char *name, uint16_t qtype,
    const char *client, struct policy_result *res)
{
	struct ask	 a;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	ask_init(&a, name, qtype, client, POLICY_QUERY);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	policy_explain(e->p, &a.pq, f, res);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

static void
expect_in(const char *text, const char *what)
{
	ck_assert_msg(strstr(text, what) != NULL, "'%s' not in:\n%s", what,
	    text);
}

static void
expect_before(const char *text, const char *first, const char *second)
{
	const char	*a = strstr(text, first), *b = strstr(text, second);

	ck_assert_msg(a != NULL && b != NULL && a < b,
	    "'%s' not before '%s' in:\n%s", first, second, text);
}

START_TEST(explain_trace)
{
	struct env	 e;
	struct policy_result res, chk;
	struct ask	 a;
	char		*out;

	env_load(&e,
	    "feeds:\n"
	    "  - { id: corp-allow, path: @D@/allow.txt, format: plain }\n"
	    "  - { id: malware, path: @D@/malware.rpz, format: rpz }\n"
	    "policy:\n"
	    "  groups:\n"
	    "    - name: baseline\n"
	    "      priority: 100\n"
	    "      rules:\n"
	    "        - { name: malware, priority: 20, match: "
	    "{ feed: malware }, action: block }\n"
	    "        - { name: allow-corp, priority: 10, match: "
	    "{ feed: corp-allow }, action: allow }\n"
	    "        - { name: risky, priority: 30, match: "
	    "{ tld: zip, qtype: A }, action: block }\n"
	    "    - name: vnet-only\n"
	    "      priority: 50\n"
	    "      clients: [10.9.0.0/16]\n"
	    "      rules:\n"
	    "        - { name: vnet-zip, priority: 1, match: { tld: zip }, "
	    "action: block }\n",
	    (const struct feedfile[]){
		{ "allow.txt", "# corp\ncorp.example\n" },
		{ "malware.rpz",
		    "$TTL 300\n"
		    "$ORIGIN rpz.test.\n"
		    "@ IN SOA localhost. hostmaster.localhost. 1 3600 600 "
		    "86400 60\n"
		    "@ IN NS localhost.\n"
		    "\n"
		    "c2.evil.example CNAME .\n"
		    "*.phish.example CNAME .\n" },
		{ NULL, NULL } }, 1);

	out = explain(&e, "c2.evil.example", T_A, "127.0.0.1", &res);
	expect_in(out, "group vnet-only");
	expect_in(out, "skipped");
	expect_in(out, "group baseline");
	expect_before(out, "vnet-only", "group baseline");
	expect_before(out, "rule allow-corp", "rule malware");
	expect_in(out, "corp-allow");
	expect_in(out, "MATCH");
	expect_in(out, "malware");
	expect_in(out, "line 6");
	expect_in(out, "c2.evil.example");
	/* Evaluation stopped at the match. */
	ck_assert_ptr_null(strstr(out, "rule risky"));
	/* Same decision as policy_check. */
	expect_block(&res, "baseline", "malware", RESP_NXDOMAIN);
	policy_check(e.p, (ask_init(&a, "c2.evil.example", T_A, "127.0.0.1",
	    POLICY_QUERY), &a.pq), &chk);
	expect_block(&chk, "baseline", "malware", RESP_NXDOMAIN);
	free(out);

	/* A wildcard entry: its line, shown as the "*." entry. */
	out = explain(&e, "www.phish.example", T_A, "127.0.0.1", &res);
	expect_in(out, "line 7");
	expect_in(out, "*.phish.example");
	free(out);

	/* In scope: the scoped group is evaluated and decides. */
	out = explain(&e, "x.zip", T_A, "10.9.1.1", &res);
	expect_in(out, "group vnet-only");
	expect_in(out, "rule vnet-zip");
	expect_in(out, "zip");
	expect_in(out, "MATCH");
	ck_assert_ptr_null(strstr(out, "skipped"));
	ck_assert_ptr_null(strstr(out, "group baseline"));
	expect_block(&res, "vnet-only", "vnet-zip", RESP_NXDOMAIN);
	free(out);

	/* Every rule evaluated, none matching, then the default. */
	out = explain(&e, "www.example.com", T_A, "127.0.0.1", &res);
	expect_in(out, "rule allow-corp");
	expect_in(out, "rule malware");
	expect_in(out, "rule risky");
	expect_in(out, "no match");
	ck_assert_ptr_null(strstr(out, "MATCH"));
	expect_in(out, "default");
	expect_allow(&res, NULL, NULL);
	free(out);

	/* The qtype of an ANDed rule is explained. */
	out = explain(&e, "x.zip", T_TXT, "127.0.0.1", &res);
	expect_in(out, "TXT");
	expect_allow(&res, NULL, NULL);
	free(out);

	env_free(&e);
}
END_TEST

/*
 * Building
 */

START_TEST(missing_feed)
{
	struct config	 cfg;
	struct policy	*p;
	struct config_feed feeds[1];
	char		 err[256];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	memset(feeds, 0, sizeof(feeds));
	feeds[0].id = "gone";
	feeds[0].path = "/nonexistent/dnsward/feed.txt";
	feeds[0].format = FEED_PLAIN;
	cfg.feeds = feeds;
	cfg.nfeeds = 1;
	err[0] = '\0';
	p = policy_new(&cfg, 0, NULL, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err, "/nonexistent/dnsward/feed.txt") != NULL,
	    "err: %s", err);
	cfg.feeds = NULL;
	cfg.nfeeds = 0;
	config_release(&cfg);
}
END_TEST

START_TEST(empty_policy)
{
	struct config	 cfg;
	struct policy	*p;
	struct ask	 a;
	char		 err[256];
	struct env	 e;

	ck_assert_int_eq(config_defaults(&cfg), 0);
	p = policy_new(&cfg, 0, NULL, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	e.p = p;
	expect_allow(ask(&e, &a, "www.example.com", T_A), NULL, NULL);
	expect_allow(ask_full(&e, &a, "www.example.com", T_A, "::1",
	    POLICY_REDIRECT), NULL, NULL);
	policy_free(p);
	policy_free(NULL);
	config_release(&cfg);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc;

	tc = tcase_create("order");
	tcase_add_test(tc, order_groups_and_rules);
	tcase_add_test(tc, precedence_allow_first_plain);
	tcase_add_test(tc, precedence_block_first_plain);
	tcase_add_test(tc, precedence_allow_first_rpz);
	tcase_add_test(tc, precedence_block_first_rpz);
	tcase_add_test(tc, alert_continues);
	tcase_add_test(tc, answer_ip_rules);
	tcase_add_test(tc, answer_ip_alert);
	tcase_add_test(tc, answer_ip_order);
	tcase_add_test(tc, answer_conditions_same_address);
	tcase_add_test(tc, alert_passthru_does_not_decide);
	suite_add_tcase(s, tc);

	tc = tcase_create("scope");
	tcase_add_test(tc, client_scope);
	tcase_add_test(tc, walled_garden);
	suite_add_tcase(s, tc);

	tc = tcase_create("conditions");
	tcase_add_test(tc, conditions_anded);
	tcase_add_test(tc, tld_rules);
	tcase_add_test(tc, qtype_rules);
	tcase_add_test(tc, feed_list);
	tcase_add_test(tc, adblock_exception);
	suite_add_tcase(s, tc);

	tc = tcase_create("rpz");
	tcase_add_test(tc, rpz_actions);
	tcase_add_test(tc, rpz_explicit_response);
	tcase_add_test(tc, result_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("redirect");
	tcase_add_test(tc, redirect_phase);
	tcase_add_test(tc, redirect_trust_global);
	tcase_add_test(tc, redirect_no_default_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("explain");
	tcase_add_test(tc, explain_trace);
	tcase_add_test(tc, missing_feed);
	tcase_add_test(tc, empty_policy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
