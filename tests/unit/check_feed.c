/*
 * check_feed.c -- unit tests for feed.c and domset.c: each format's lines
 * and match semantics, RPZ actions, local data and origins, the most
 * specific entry winning, hygiene (CRLF, BOM, case, duplicates) and every
 * kind of bad line with its exact "FILE:LINE: why", format detection,
 * line tracking, name limits, and the real lists in ../shared.
 *
 * Each test writes its feed to a temporary file.  Timing and memory
 * targets are not tested here (bench/feed-load measures them).
 */
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "wire.h"

#define BLOCKLISTS	"../shared/data/blocklists"

/* What the loader reported. */
struct reports {
	char	 msg[FEED_REPORT_MAX + 5][600];
	size_t	 n;
};

static char	 path[64];
static struct feed_stats st;
static struct reports rep;

static void
collect(void *arg, const char *msg)
{
	struct reports *r = arg;

	ck_assert_uint_lt(r->n, sizeof(r->msg) / sizeof(r->msg[0]));
	snprintf(r->msg[r->n++], sizeof(r->msg[0]), "%s", msg);
}

static void
write_file(const char *content, size_t len)
{
	FILE	*f;
	int	 fd;

	snprintf(path, sizeof(path), "/tmp/check_feed.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	ck_assert_uint_eq(fwrite(content, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load content as a feed; the file is removed again at once. */
static struct feed *
load_full(const char *content, enum feed_format fmt, enum feed_match match,
    int track)
{
	struct config_feed fc;
	struct feed *f;
	char	 err[512];

	write_file(content, strlen(content));
	memset(&fc, 0, sizeof(fc));
	fc.id = "test";
	fc.path = path;
	fc.format = fmt;
	fc.match = match;
	memset(&rep, 0, sizeof(rep));
	f = feed_load(&fc, track, &st, collect, &rep, err, sizeof(err));
	ck_assert_msg(f != NULL, "load failed: %s", err);
	unlink(path);
	return f;
}

static struct feed *
load(const char *content, enum feed_format fmt)
{
	return load_full(content, fmt, FEED_MATCH_SUBDOMAINS, 0);
}

static void
to_wire(const char *s, uint8_t *out, size_t *outlen)
{
	size_t	 pos = 0;

	while (*s != '\0' && strcmp(s, ".") != 0) {
		size_t	 l = strcspn(s, ".");

		ck_assert_uint_le(pos + l + 2, DNS_MAX_NAME);
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, s, l);
		pos += l;
		s += l;
		if (*s == '.')
			s++;
	}
	out[pos++] = 0;
	*outlen = pos;
}

/* Look up a dotted name; 1 if it matched. */
static int
hit(const struct feed *f, const char *name, struct feed_hit *h)
{
	uint8_t	 w[DNS_MAX_NAME];
	size_t	 len;

	to_wire(name, w, &len);
	memset(h, 0xa5, sizeof(*h));
	return feed_lookup(f, w, len, h);
}

/* The name matched, with this action and scope, at the entry "entry". */
static void
expect(const struct feed *f, const char *name, enum feed_action action,
    enum feed_scope scope, const char *entry)
{
	struct feed_hit h;
	uint8_t	 w[DNS_MAX_NAME];
	size_t	 len;

	ck_assert_msg(hit(f, name, &h), "%s: no match", name);
	ck_assert_msg(h.action == action, "%s: action %d, want %d", name,
	    h.action, action);
	ck_assert_msg(h.scope == scope, "%s: scope %d, want %d", name,
	    h.scope, scope);
	to_wire(name, w, &len);
	ck_assert_msg(strcmp(name + (strlen(name) - strlen(entry)), entry) == 0,
	    "%s: bad test", name);
	to_wire(entry, w, &len);
	{
		uint8_t	 q[DNS_MAX_NAME];
		size_t	 qlen;

		to_wire(name, q, &qlen);
		ck_assert_uint_eq(qlen - h.offset, len);
		ck_assert(memcmp(q + h.offset, w, len) == 0);
	}
}

static void
expect_none(const struct feed *f, const char *name)
{
	struct feed_hit h;

	ck_assert_msg(!hit(f, name, &h), "%s: unexpected match", name);
}

/* Report i is "PATH:line: why". */
static void
expect_report(size_t i, unsigned line, const char *why)
{
	char	 want[600];

	snprintf(want, sizeof(want), "%s:%u: %s", path, line, why);
	ck_assert_uint_gt(rep.n, i);
	ck_assert_str_eq(rep.msg[i], want);
}

/* Formats and their match semantics. */

START_TEST(plain_subdomains)
{
	struct feed *f;

	f = load("# a comment\n\na.example\n  B.Example.  \n"
	    "c.example # trailing comment\n*.w.example\n", FEED_PLAIN);
	ck_assert_uint_eq(st.entries, 4);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.lines, 6);
	ck_assert_int_eq(st.format, FEED_PLAIN);
	expect(f, "a.example", FEED_LISTED, FEED_SCOPE_BOTH, "a.example");
	expect(f, "x.y.a.example", FEED_LISTED, FEED_SCOPE_BOTH, "a.example");
	expect(f, "b.example", FEED_LISTED, FEED_SCOPE_BOTH, "b.example");
	expect(f, "c.example", FEED_LISTED, FEED_SCOPE_BOTH, "c.example");
	expect_none(f, "w.example");
	expect(f, "x.w.example", FEED_LISTED, FEED_SCOPE_BELOW, "w.example");
	expect_none(f, "example");
	expect_none(f, "aa.example");
	expect_none(f, "a.example.org");
	ck_assert_str_eq(feed_id(f), "test");
	ck_assert_uint_gt(st.memory, 0);
	feed_free(f);
}
END_TEST

START_TEST(plain_exact)
{
	struct feed *f;

	f = load_full("a.example\n*.w.example\n", FEED_PLAIN,
	    FEED_MATCH_EXACT, 0);
	expect(f, "a.example", FEED_LISTED, FEED_SCOPE_EXACT, "a.example");
	expect_none(f, "x.a.example");
	expect_none(f, "w.example");
	expect(f, "x.w.example", FEED_LISTED, FEED_SCOPE_BELOW, "w.example");
	feed_free(f);
}
END_TEST

START_TEST(rpz_ldns_cap)
{
	char	 text[4096];
	struct feed *f;

	/*
	 * A record that needs the ldns fallback (parentheses) but is longer
	 * than any real RPZ record is a bad line; ldns never sees it.
	 */
	snprintf(text, sizeof(text), "$ORIGIN rpz.\n"
	    "x.example CNAME ( . ; %02100d\n )\n"
	    "y.example CNAME ( . )\n", 0);
	f = load(text, FEED_RPZ);
	ck_assert_uint_eq(st.errors, 1);
	expect_report(0, 2, "record longer than 2048 bytes");
	expect_none(f, "x.example");
	expect(f, "y.example", FEED_NXDOMAIN, FEED_SCOPE_EXACT, "y.example");
	feed_free(f);
}
END_TEST

START_TEST(hosts_boilerplate)
{
	struct feed *f;

	/* The head of every published hosts blocklist. */
	f = load("127.0.0.1 localhost\n127.0.0.1 localhost.localdomain\n"
	    "127.0.0.1 local\n255.255.255.255 broadcasthost\n"
	    "::1 localhost ip6-localhost ip6-loopback\n"
	    "fe80::1%lo0 localhost\nff00::0 ip6-localnet\n"
	    "ff02::1 ip6-allnodes\n0.0.0.0 0.0.0.0\n"
	    "0.0.0.0 tracker.example\n", FEED_HOSTS);
	expect_none(f, "localhost");
	expect_none(f, "ip6-loopback");
	expect_none(f, "broadcasthost");
	expect(f, "tracker.example", FEED_LISTED, FEED_SCOPE_EXACT,
	    "tracker.example");
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.errors, 0);
	feed_free(f);
}
END_TEST

START_TEST(hosts)
{
	struct feed *f;

	f = load("# hosts\n127.0.0.1 localhost\n"
	    "0.0.0.0 a.example B.example\t# two names\n"
	    ":: c.example\n"
	    "fe80::1%lo0 d.example\n"
	    "0.0.0.0\n"
	    "0.0.0.0 e.example bad!.example f.example\n"
	    "nonsense.example g.example\n", FEED_HOSTS);
	/* Hosts-file boilerplate is skipped, never listed. */
	expect_none(f, "localhost");
	expect(f, "a.example", FEED_LISTED, FEED_SCOPE_EXACT, "a.example");
	expect(f, "b.example", FEED_LISTED, FEED_SCOPE_EXACT, "b.example");
	expect(f, "c.example", FEED_LISTED, FEED_SCOPE_EXACT, "c.example");
	expect(f, "d.example", FEED_LISTED, FEED_SCOPE_EXACT, "d.example");
	expect(f, "e.example", FEED_LISTED, FEED_SCOPE_EXACT, "e.example");
	expect(f, "f.example", FEED_LISTED, FEED_SCOPE_EXACT, "f.example");
	expect_none(f, "www.a.example");
	expect_none(f, "g.example");
	ck_assert_uint_eq(st.entries, 6);
	ck_assert_uint_eq(st.errors, 3);
	ck_assert_uint_eq(rep.n, 3);
	expect_report(0, 6, "hosts line without a name");
	expect_report(1, 7, "invalid character '!' (0x21)");
	expect_report(2, 8, "hosts line without an address");
	feed_free(f);
}
END_TEST

START_TEST(adblock)
{
	struct feed *f;

	f = load("[Adblock Plus 2.0]\n! Title: test\n# comment\n"
	    "||ads.example^\n"
	    "@@||ok.ads.example^\n"
	    "@@||first.example^\n||first.example^\n"
	    "||*.w.example^\n"
	    "||x.example^$third-party\n"
	    "##.banner\n"
	    "||y.example/path^\n"
	    "plain.example\n"
	    "|http://z.example^\n"
	    "||bad..example^\n", FEED_ADBLOCK);
	expect(f, "ads.example", FEED_LISTED, FEED_SCOPE_BOTH, "ads.example");
	expect(f, "x.ads.example", FEED_LISTED, FEED_SCOPE_BOTH,
	    "ads.example");
	expect(f, "ok.ads.example", FEED_EXCEPTION, FEED_SCOPE_BOTH,
	    "ok.ads.example");
	expect(f, "a.b.ok.ads.example", FEED_EXCEPTION, FEED_SCOPE_BOTH,
	    "ok.ads.example");
	/* An exception wins over a block of the same name, in any order. */
	expect(f, "first.example", FEED_EXCEPTION, FEED_SCOPE_BOTH,
	    "first.example");
	expect_none(f, "w.example");
	expect(f, "a.w.example", FEED_LISTED, FEED_SCOPE_BELOW, "w.example");
	expect_none(f, "x.example");
	ck_assert_uint_eq(st.errors, 6);
	ck_assert_uint_eq(st.duplicates, 1);
	expect_report(0, 9, "unsupported adblock rule");
	expect_report(1, 10, "unsupported adblock rule");
	expect_report(2, 11, "unsupported adblock rule");
	expect_report(3, 12, "unsupported adblock rule");
	expect_report(4, 13, "unsupported adblock rule");
	expect_report(5, 14, "empty label");
	feed_free(f);
}
END_TEST

static const char rpz_zone[] =
    "; an RPZ zone\n"
    "$TTL 300\n"
    "$ORIGIN rpz.example.\n"
    "@ SOA ns.example. hostmaster.example. ( 1 ; serial\n"
    "\t3600 600 86400 300 )\n"
    "  NS ns.example.\n"
    "nx.example CNAME .\n"
    "*.nx.example CNAME .\n"
    "nodata.example IN CNAME *.\n"
    "pass.example 60 IN CNAME rpz-passthru.\n"
    "drop.example CNAME rpz-drop.\n"
    "local.example 60 A 192.0.2.1\n"
    "local.example AAAA 2001:db8::1\n"
    "\tA 192.0.2.2\n"
    "cn.example CNAME Sinkhole.Corp.example.\n"
    "rel CNAME target\n"
    "wild.example.rpz.example. CNAME .\n"
    "*.wild.example CNAME rpz-passthru.\n"
    "exact.wild.example CNAME *.\n"
    "32.1.2.0.192.rpz-client-ip CNAME .\n"
    "ns.example.rpz-nsdname CNAME .\n"
    "outside.example. CNAME .\n"
    "txt.example TXT \"hello\"\n"
    "self.example CNAME self.example.rpz.example.\n"
    "tcp.example CNAME rpz-tcp-only.\n"
    "@ A 192.0.2.9\n"
    "nx.example CNAME .\n"
    "$INCLUDE other.zone\n"
    "broken.example A not-an-address\n";

START_TEST(rpz_actions)
{
	struct feed_hit h;
	struct feed *f;
	uint8_t	 w[DNS_MAX_NAME];
	size_t	 len;

	f = load(rpz_zone, FEED_RPZ);
	expect(f, "nx.example", FEED_NXDOMAIN, FEED_SCOPE_BOTH, "nx.example");
	expect(f, "a.nx.example", FEED_NXDOMAIN, FEED_SCOPE_BOTH,
	    "nx.example");
	expect(f, "nodata.example", FEED_NODATA, FEED_SCOPE_EXACT,
	    "nodata.example");
	expect_none(f, "a.nodata.example");
	expect(f, "pass.example", FEED_PASSTHRU, FEED_SCOPE_EXACT,
	    "pass.example");
	expect(f, "drop.example", FEED_DROP, FEED_SCOPE_EXACT, "drop.example");
	expect(f, "self.example", FEED_PASSTHRU, FEED_SCOPE_EXACT,
	    "self.example");

	/* Local data: every record of the trigger, sorted A then AAAA. */
	ck_assert(hit(f, "local.example", &h));
	ck_assert_int_eq(h.action, FEED_OVERRIDE);
	ck_assert_uint_eq(h.nrrs, 3);
	ck_assert_uint_eq(h.rrs[0].type, 1);
	ck_assert_uint_eq(h.rrs[0].ttl, 60);
	ck_assert_uint_eq(h.rrs[0].rdlen, 4);
	ck_assert(memcmp(h.rrs[0].rdata, "\xc0\x00\x02\x01", 4) == 0);
	ck_assert_uint_eq(h.rrs[1].type, 1);
	ck_assert_uint_eq(h.rrs[1].ttl, 300);
	ck_assert(memcmp(h.rrs[1].rdata, "\xc0\x00\x02\x02", 4) == 0);
	ck_assert_uint_eq(h.rrs[2].type, 28);
	ck_assert_uint_eq(h.rrs[2].rdlen, 16);
	ck_assert(memcmp(h.rrs[2].rdata,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0);
	expect_none(f, "www.local.example");

	/* A CNAME to another name: override with that target, lower case. */
	ck_assert(hit(f, "cn.example", &h));
	ck_assert_int_eq(h.action, FEED_OVERRIDE);
	ck_assert_uint_eq(h.nrrs, 1);
	ck_assert_uint_eq(h.rrs[0].type, 5);
	to_wire("sinkhole.corp.example", w, &len);
	ck_assert_uint_eq(h.rrs[0].rdlen, len);
	ck_assert(memcmp(h.rrs[0].rdata, w, len) == 0);

	/* Relative owner and relative target, both under $ORIGIN. */
	ck_assert(hit(f, "rel", &h));
	ck_assert_int_eq(h.action, FEED_OVERRIDE);
	to_wire("target.rpz.example", w, &len);
	ck_assert_uint_eq(h.rrs[0].rdlen, len);
	ck_assert(memcmp(h.rrs[0].rdata, w, len) == 0);

	/* Wildcards: exact beats the wildcard of a parent. */
	expect(f, "wild.example", FEED_NXDOMAIN, FEED_SCOPE_EXACT,
	    "wild.example");
	expect(f, "a.wild.example", FEED_PASSTHRU, FEED_SCOPE_BELOW,
	    "wild.example");
	expect(f, "exact.wild.example", FEED_NODATA, FEED_SCOPE_EXACT,
	    "exact.wild.example");
	expect(f, "b.exact.wild.example", FEED_PASSTHRU, FEED_SCOPE_BELOW,
	    "wild.example");

	expect_none(f, "outside.example");
	expect_none(f, "rpz.example");
	expect_none(f, "example");
	ck_assert_uint_eq(st.entries, 12);
	ck_assert_uint_eq(st.duplicates, 1);
	ck_assert_uint_eq(st.errors, 8);
	expect_report(0, 20, "unsupported trigger");
	expect_report(1, 21, "unsupported trigger");
	expect_report(2, 22, "not under the zone origin");
	expect_report(3, 23, "unsupported record type TXT");
	expect_report(4, 25, "unsupported action rpz-tcp-only.");
	expect_report(5, 26, "record at the zone apex");
	expect_report(6, 28, "unsupported directive $INCLUDE");
	ck_assert_uint_eq(rep.n, 8);
	ck_assert(strncmp(rep.msg[7], path, strlen(path)) == 0);
	ck_assert(strstr(rep.msg[7], ":29: ") != NULL);
	feed_free(f);
}
END_TEST

START_TEST(rpz_origins)
{
	struct feed *f;

	/* No $ORIGIN and no SOA: owners are relative to the root. */
	f = load("a.example CNAME .\nb.example. CNAME .\n", FEED_RPZ);
	expect(f, "a.example", FEED_NXDOMAIN, FEED_SCOPE_EXACT, "a.example");
	expect(f, "b.example", FEED_NXDOMAIN, FEED_SCOPE_EXACT, "b.example");
	feed_free(f);

	/* The SOA's owner is the apex. */
	f = load("zone.rpz. 300 IN SOA ns. h. 1 2 3 4 5\n"
	    "foo.zone.rpz. CNAME .\nbar.other.rpz. CNAME .\n", FEED_RPZ);
	expect(f, "foo", FEED_NXDOMAIN, FEED_SCOPE_EXACT, "foo");
	expect_none(f, "foo.zone.rpz");
	ck_assert_uint_eq(st.errors, 1);
	expect_report(0, 3, "not under the zone origin");
	feed_free(f);

	/* A later $ORIGIN changes relative names, not the apex. */
	f = load("$ORIGIN rpz.\n@ SOA ns. h. 1 2 3 4 5\n"
	    "$ORIGIN bad.example.rpz.\n@ CNAME .\n* CNAME .\n", FEED_RPZ);
	expect(f, "bad.example", FEED_NXDOMAIN, FEED_SCOPE_BOTH,
	    "bad.example");
	expect(f, "x.bad.example", FEED_NXDOMAIN, FEED_SCOPE_BOTH,
	    "bad.example");
	ck_assert_uint_eq(st.entries, 2);
	feed_free(f);
}
END_TEST

START_TEST(most_specific)
{
	struct feed *f;

	f = load("||example.com^\n@@||safe.example.com^\n"
	    "||bad.safe.example.com^\n", FEED_ADBLOCK);
	expect(f, "x.example.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "example.com");
	expect(f, "x.safe.example.com", FEED_EXCEPTION, FEED_SCOPE_BOTH,
	    "safe.example.com");
	expect(f, "y.bad.safe.example.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "bad.safe.example.com");
	feed_free(f);

	f = load("example.com\nsub.example.com\n", FEED_PLAIN);
	expect(f, "a.sub.example.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "sub.example.com");
	feed_free(f);
}
END_TEST

/* Hygiene and bad lines. */

START_TEST(hygiene)
{
	struct feed *f;

	f = load("\xef\xbb\xbf" "A.Example.\r\nb.example\r\n\r\n"
	    "a.example\r\nA.EXAMPLE\r\nb.example.\r\n# c\r\nlast.example",
	    FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_PLAIN);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_eq(st.duplicates, 3);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.lines, 8);
	expect(f, "a.example", FEED_LISTED, FEED_SCOPE_BOTH, "a.example");
	expect(f, "b.example", FEED_LISTED, FEED_SCOPE_BOTH, "b.example");
	expect(f, "last.example", FEED_LISTED, FEED_SCOPE_BOTH,
	    "last.example");
	feed_free(f);
}
END_TEST

START_TEST(bad_lines)
{
	char	 text[4096], longlab[70], longname[300];
	struct feed *f;
	size_t	 i;

	memset(longlab, 'a', 64);
	longlab[64] = '\0';
	for (i = 0; i < 260; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[260] = '\0';
	snprintf(text, sizeof(text),
	    "%s.example\n%s\nbad!name.com\na..b\nex\x01" "ample.com\n"
	    "b\xc3\xbc" "cher.de\na.com extra\n.a.com\n*\na.*.com\n"
	    "good.example\n.\n",
	    longlab, longname);
	f = load(text, FEED_PLAIN);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.errors, 11);
	/* The first FEED_REPORT_MAX one by one, then a count. */
	ck_assert_uint_eq(rep.n, FEED_REPORT_MAX + 1);
	ck_assert(strstr(rep.msg[FEED_REPORT_MAX],
	    ": 1 more bad lines not shown") != NULL);
	expect_report(0, 1, "label longer than 63 bytes");
	expect_report(1, 2, "name longer than 255 bytes");
	expect_report(2, 3, "invalid character '!' (0x21)");
	expect_report(3, 4, "empty label");
	expect_report(4, 5, "invalid character 0x01");
	expect_report(5, 6, "non-ASCII name: use the xn-- form");
	expect_report(6, 7, "unexpected text after the name");
	expect_report(7, 8, "empty label");
	expect_report(8, 9, "the root cannot be listed");
	expect_report(9, 10, "invalid character '*' (0x2a)");
	expect(f, "good.example", FEED_LISTED, FEED_SCOPE_BOTH,
	    "good.example");
	feed_free(f);
}
END_TEST

START_TEST(report_max)
{
	char	 text[4096] = "";
	struct feed *f;
	int	 i;

	for (i = 0; i < 25; i++)
		strcat(text, i % 2 ? "ok-x.example\n" : "bad name\n");
	strcat(text, "ok.example\n");
	f = load(text, FEED_PLAIN);
	ck_assert_uint_eq(st.errors, 13);
	ck_assert_uint_eq(rep.n, FEED_REPORT_MAX + 1);
	ck_assert(strstr(rep.msg[FEED_REPORT_MAX],
	    ": 3 more bad lines not shown") != NULL);
	expect_report(9, 19, "unexpected text after the name");
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.duplicates, 11);
	expect(f, "ok.example", FEED_LISTED, FEED_SCOPE_BOTH, "ok.example");
	feed_free(f);
}
END_TEST

START_TEST(unreadable)
{
	struct config_feed fc;
	struct feed_stats s;
	char	 err[512];

	memset(&fc, 0, sizeof(fc));
	fc.id = "x";
	fc.path = "/nonexistent/feed.txt";
	ck_assert_ptr_null(feed_load(&fc, 0, &s, NULL, NULL, err,
	    sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/feed.txt: No such file or "
	    "directory");
	fc.path = "/tmp";
	ck_assert_ptr_null(feed_load(&fc, 0, &s, NULL, NULL, err,
	    sizeof(err)));
	ck_assert_str_eq(err, "/tmp: Is a directory");
	feed_free(NULL);
}
END_TEST

START_TEST(empty)
{
	struct feed *f;

	f = load("", FEED_AUTO);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.lines, 0);
	ck_assert_int_eq(st.format, FEED_PLAIN);
	expect_none(f, "example.com");
	feed_free(f);

	f = load("# only comments\n\n", FEED_RPZ);
	ck_assert_uint_eq(st.entries, 0);
	feed_free(f);
}
END_TEST

START_TEST(detection)
{
	struct feed *f;

	f = load("; zone\n$TTL 60\na CNAME .\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_RPZ);
	feed_free(f);
	f = load("bad.example CNAME .\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_RPZ);
	expect(f, "bad.example", FEED_NXDOMAIN, FEED_SCOPE_EXACT,
	    "bad.example");
	feed_free(f);
	f = load("rpz. IN SOA ns. h. 1 2 3 4 5\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_RPZ);
	feed_free(f);
	f = load("! Title\n||a.example^\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_ADBLOCK);
	feed_free(f);
	f = load("\xef\xbb\xbf||a.example^\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_ADBLOCK);
	expect(f, "a.example", FEED_LISTED, FEED_SCOPE_BOTH, "a.example");
	feed_free(f);
	f = load("# hosts\n0.0.0.0 a.example\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_HOSTS);
	expect_none(f, "x.a.example");
	feed_free(f);
	f = load("# list\na.example\n0.0.0.0 b.example\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_HOSTS);
	feed_free(f);
	f = load("a.example\nb.example\n", FEED_AUTO);
	ck_assert_int_eq(st.format, FEED_PLAIN);
	feed_free(f);
	ck_assert_str_eq(feed_format_name(FEED_AUTO), "auto");
	ck_assert_str_eq(feed_format_name(FEED_PLAIN), "plain");
	ck_assert_str_eq(feed_format_name(FEED_HOSTS), "hosts");
	ck_assert_str_eq(feed_format_name(FEED_RPZ), "rpz");
	ck_assert_str_eq(feed_format_name(FEED_ADBLOCK), "adblock");
}
END_TEST

START_TEST(track_lines)
{
	struct feed_hit h;
	struct feed *f;

	f = load_full("# c\na.example\n\nb.example\na.example\n"
	    "*.b.example\n", FEED_PLAIN, FEED_MATCH_EXACT, 1);
	ck_assert(hit(f, "a.example", &h));
	ck_assert_uint_eq(h.line, 2);
	ck_assert(hit(f, "b.example", &h));
	ck_assert_uint_eq(h.line, 4);
	ck_assert(hit(f, "x.b.example", &h));
	ck_assert_uint_eq(h.line, 6);
	feed_free(f);

	f = load_full(rpz_zone, FEED_RPZ, 0, 1);
	ck_assert(hit(f, "a.wild.example", &h));
	ck_assert_uint_eq(h.line, 18);
	ck_assert(hit(f, "wild.example", &h));
	ck_assert_uint_eq(h.line, 17);
	ck_assert(hit(f, "local.example", &h));
	ck_assert_uint_eq(h.line, 12);
	ck_assert_uint_eq(h.nrrs, 3);
	feed_free(f);

	/* Untracked: 0. */
	f = load("a.example\n", FEED_PLAIN);
	ck_assert(hit(f, "a.example", &h));
	ck_assert_uint_eq(h.line, 0);
	feed_free(f);
}
END_TEST

START_TEST(name_limits)
{
	char	 text[1000], name[300];
	struct feed_hit h;
	struct feed *f;
	uint8_t	 w[DNS_MAX_NAME + 1];
	size_t	 len;

	/* 63.63.63.61 characters: exactly 255 bytes of wire. */
	memset(name, 'a', 63);
	name[63] = '.';
	memset(name + 64, 'b', 63);
	name[127] = '.';
	memset(name + 128, 'c', 63);
	name[191] = '.';
	memset(name + 192, 'd', 61);
	name[253] = '\0';
	snprintf(text, sizeof(text), "%s\n%se\n%s.\n", name, name, name);
	f = load(text, FEED_PLAIN);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.duplicates, 1);
	ck_assert_uint_eq(st.errors, 1);
	expect_report(0, 2, "name longer than 255 bytes");
	to_wire(name, w, &len);
	ck_assert_uint_eq(len, 255);
	ck_assert(feed_lookup(f, w, len, &h));
	ck_assert_uint_eq(h.offset, 0);
	/* Its parent "bbb...ccc...ddd" is not listed. */
	ck_assert(!feed_lookup(f, w + 64, len - 64, &h));
	feed_free(f);
}
END_TEST

START_TEST(lookups)
{
	struct feed_hit h;
	struct feed *f;

	f = load("example.com\nco.uk\n", FEED_PLAIN);
	/* The root, a TLD, unlisted names, names far deeper than entries. */
	ck_assert(!feed_lookup(f, (const uint8_t *)"", 1, &h));
	expect_none(f, "com");
	expect_none(f, "uk");
	expect_none(f, "example.org");
	expect_none(f, "xexample.com");
	expect(f, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.example.com", FEED_LISTED,
	    FEED_SCOPE_BOTH, "example.com");
	expect(f, "www.bbc.co.uk", FEED_LISTED, FEED_SCOPE_BOTH, "co.uk");
	/* Malformed wire names match nothing. */
	ck_assert(!feed_lookup(f, (const uint8_t *)"\7example\3com", 12, &h));
	ck_assert(!feed_lookup(f, (const uint8_t *)"\7example\3com\0", 12,
	    &h));
	ck_assert(!feed_lookup(f, (const uint8_t *)"\7example\5com\0", 13,
	    &h));
	ck_assert(!feed_lookup(f, (const uint8_t *)"", 0, &h));
	ck_assert(feed_lookup(f, (const uint8_t *)"\7example\3com", 13, &h));
	ck_assert(!feed_lookup(NULL, (const uint8_t *)"\7example\3com", 13,
	    &h));
	feed_free(f);
}
END_TEST

/* Real lists. */

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * An independent reference: lines that are plain names (letters, digits,
 * '-', '_', labels of 1..63, at most 253 characters), lower-cased, with a
 * trailing dot dropped.  Returns the distinct count; *bad gets the rest.
 */
static size_t
reference_count(const char *file, size_t *bad)
{
	char	 line[1024], **names = NULL;
	size_t	 n = 0, cap = 0, distinct = 0, i;
	FILE	*fp;

	*bad = 0;
	ck_assert_ptr_nonnull(fp = fopen(file, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t	 len = strcspn(line, "\r\n"), lab = 0;
		int	 ok = 1;

		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (line[len - 1] == '.')
			line[--len] = '\0';
		for (i = 0; i < len && ok; i++) {
			char	 c = line[i];

			if (c >= 'A' && c <= 'Z')
				line[i] = c = (char)(c - 'A' + 'a');
			if (c == '.') {
				ok = lab > 0;
				lab = 0;
			} else {
				ok = ((c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '-' ||
				    c == '_') && ++lab <= 63;
			}
		}
		if (!ok || lab == 0 || len > 253) {
			(*bad)++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
			ck_assert_ptr_nonnull(names);
		}
		ck_assert_ptr_nonnull(names[n++] = strdup(line));
	}
	fclose(fp);
	qsort(names, n, sizeof(*names), ref_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i - 1], names[i]) != 0)
			distinct++;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return distinct;
}

static struct feed *
load_real(const char *name, size_t *want, size_t *bad)
{
	struct config_feed fc;
	struct feed *f;
	char	 file[256], err[512];

	snprintf(file, sizeof(file), "%s/%s", BLOCKLISTS, name);
	*want = reference_count(file, bad);
	memset(&fc, 0, sizeof(fc));
	fc.id = "real";
	fc.path = file;
	memset(&rep, 0, sizeof(rep));
	f = feed_load(&fc, 0, &st, collect, &rep, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	ck_assert_int_eq(st.format, FEED_PLAIN);
	ck_assert_uint_eq(st.entries, *want);
	ck_assert_uint_eq(st.errors, *bad);
	return f;
}

/* format: ip -- addresses, prefixes, comments, bad lines, auto-detect. */
START_TEST(ip_feed)
{
	struct feed_ip_hit	 h;
	struct feed		*f;
	uint8_t			 a[16];
	const char		*text = "# comment\r\n"
	    "192.0.2.0/24\n"
	    "192.0.2.128/25 ; more specific\n"
	    "\n"
	    "2001:db8::/32\n"
	    "198.51.100.7\n"
	    "192.0.2.0/24\n"
	    "192.0.2.1/24\n"
	    "bad\n";

	f = load(text, FEED_IP);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(st.entries, 4);
	ck_assert_uint_eq(st.duplicates, 1);
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_uint_eq(rep.n, 2);
	ck_assert_msg(strstr(rep.msg[0], ":8:1: 192.0.2.1/24: host bits set") !=
	    NULL, "%s", rep.msg[0]);
	ck_assert_msg(strstr(rep.msg[1], ":9:1: ") != NULL, "%s", rep.msg[1]);
	ck_assert_int_eq(feed_has_addresses(f), 1);

	inet_pton(AF_INET, "192.0.2.200", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_uint_eq(h.plen, 25);
	ck_assert_uint_eq(h.line, 3);
	ck_assert_int_eq(h.action, FEED_LISTED);
	inet_pton(AF_INET, "192.0.2.5", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_uint_eq(h.plen, 24);
	ck_assert_uint_eq(h.line, 2);
	inet_pton(AF_INET, "198.51.100.8", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 0);
	inet_pton(AF_INET6, "2001:db8:1::1", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET6, a, &h), 1);
	ck_assert_uint_eq(h.plen, 32);
	/* An IPv4-mapped AAAA matches the IPv4 prefixes. */
	inet_pton(AF_INET6, "::ffff:198.51.100.7", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET6, a, &h), 1);
	ck_assert_int_eq(h.af, AF_INET);
	ck_assert_uint_eq(h.plen, 32);
	feed_free(f);

	/* Auto-detected. */
	f = load("# list\n10.0.0.0/8\n10.1.1.1\n", FEED_AUTO);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(st.format, FEED_IP);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_int_eq(feed_has_addresses(f), 1);
	feed_free(f);

	/* A list of names holds no addresses. */
	f = load("example.com\n", FEED_PLAIN);
	ck_assert_int_eq(feed_has_addresses(f), 0);
	inet_pton(AF_INET, "10.1.1.1", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 0);
	feed_free(f);
}
END_TEST

/* RPZ rpz-ip triggers: prefixes with their CNAME actions, next to names. */
START_TEST(rpz_ip_triggers)
{
	struct feed_ip_hit	 h;
	struct feed_hit		 nh;
	struct feed		*f;
	uint8_t			 a[16];
	const char		*text = "$TTL 60\n"
	    "@ SOA localhost. root.localhost. 1 3600 600 86400 60\n"
	    "  NS localhost.\n"
	    "bad.example CNAME .\n"
	    "32.4.3.2.1.rpz-ip CNAME .\n"
	    "24.0.2.0.192.rpz-ip CNAME *.\n"
	    "32.7.2.0.192.rpz-ip CNAME rpz-passthru.\n"
	    "16.0.0.51.198.RPZ-IP CNAME rpz-drop.\n"
	    "128.1.zz.db8.2001.rpz-ip CNAME .\n"
	    "33.1.0.0.127.rpz-ip CNAME .\n"
	    "32.1.0.0.127.rpz-ip A 192.0.2.1\n"
	    "24.1.2.0.192.rpz-ip CNAME .\n"
	    "32.10.113.0.203.rpz-ip CNAME 32.10.113.0.203.rpz-ip.\n";

	f = load(text, FEED_RPZ);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(st.entries, 7);
	ck_assert_uint_eq(st.errors, 3);
	ck_assert_int_eq(feed_has_addresses(f), 1);
	ck_assert_int_eq(feed_format(f), FEED_RPZ);
	ck_assert_msg(strstr(rep.msg[0], ":10: rpz-ip trigger: ") != NULL,
	    "%s", rep.msg[0]);
	ck_assert_msg(strstr(rep.msg[1], ":11: rpz-ip trigger: local data") !=
	    NULL || strstr(rep.msg[1], ":11: rpz-ip trigger: only CNAME") !=
	    NULL, "%s", rep.msg[1]);
	ck_assert_msg(strstr(rep.msg[2], ":12: rpz-ip trigger: ") != NULL,
	    "%s", rep.msg[2]);

	inet_pton(AF_INET, "1.2.3.4", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_NXDOMAIN);
	ck_assert_uint_eq(h.plen, 32);
	ck_assert_uint_eq(h.line, 5);
	inet_pton(AF_INET, "192.0.2.99", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_NODATA);
	inet_pton(AF_INET, "192.0.2.7", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_PASSTHRU);
	inet_pton(AF_INET, "198.51.200.1", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_DROP);
	ck_assert_uint_eq(h.plen, 16);
	inet_pton(AF_INET6, "2001:db8::1", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET6, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_NXDOMAIN);
	ck_assert_uint_eq(h.plen, 128);
	inet_pton(AF_INET6, "2001:db8::2", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET6, a, &h), 0);
	/* The older passthru form: a CNAME to the trigger itself. */
	inet_pton(AF_INET, "203.0.113.10", a);
	ck_assert_int_eq(feed_lookup_ip(f, AF_INET, a, &h), 1);
	ck_assert_int_eq(h.action, FEED_PASSTHRU);
	/* The QNAME trigger is there too. */
	ck_assert_int_eq(hit(f, "bad.example", &nh), 1);
	feed_free(f);
}
END_TEST

START_TEST(real_lists)
{
	struct feed *f;
	size_t	 want, bad;

	if (access(BLOCKLISTS, F_OK) == -1) {
		printf("note: %s absent, real lists not tested\n", BLOCKLISTS);
		return;
	}
	f = load_real("eth-phishing-detect.deny.txt", &want, &bad);
	ck_assert_uint_gt(want, 13000);
	expect(f, "azukishop.live", FEED_LISTED, FEED_SCOPE_BOTH,
	    "azukishop.live");
	expect(f, "etherealart.nfts-mints.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "etherealart.nfts-mints.com");
	expect(f, "x.nfts-mints.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "nfts-mints.com");
	expect_none(f, "example.com");
	feed_free(f);

	/* Holds IDNs in UTF-8: bad lines, the rest loads. */
	f = load_real("polkadot-phishing.deny.txt", &want, &bad);
	ck_assert_uint_gt(bad, 0);
	ck_assert_uint_gt(want, 50000);
	ck_assert_uint_eq(rep.n, FEED_REPORT_MAX + 1);
	ck_assert(strstr(rep.msg[0], ": non-ASCII name: use the xn-- form")
	    != NULL);
	expect(f, "0-chain.com", FEED_LISTED, FEED_SCOPE_BOTH, "0-chain.com");
	feed_free(f);

	f = load_real("disposable-email-domains.txt", &want, &bad);
	ck_assert_uint_gt(want, 120000);
	expect(f, "0-180.com", FEED_LISTED, FEED_SCOPE_BOTH, "0-180.com");
	expect(f, "mailinator.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "mailinator.com");
	expect(f, "www.mailinator.com", FEED_LISTED, FEED_SCOPE_BOTH,
	    "mailinator.com");
	expect_none(f, "gmail.com");
	feed_free(f);
}
END_TEST

static Suite *
feed_suite(void)
{
	Suite	*s = suite_create("feed");
	TCase	*tc;

	tc = tcase_create("formats");
	tcase_add_test(tc, plain_subdomains);
	tcase_add_test(tc, ip_feed);
	tcase_add_test(tc, rpz_ip_triggers);
	tcase_add_test(tc, plain_exact);
	tcase_add_test(tc, hosts);
	tcase_add_test(tc, hosts_boilerplate);
	tcase_add_test(tc, rpz_ldns_cap);
	tcase_add_test(tc, adblock);
	tcase_add_test(tc, rpz_actions);
	tcase_add_test(tc, rpz_origins);
	tcase_add_test(tc, most_specific);
	suite_add_tcase(s, tc);

	tc = tcase_create("hygiene");
	tcase_add_test(tc, hygiene);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, report_max);
	tcase_add_test(tc, unreadable);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, detection);
	tcase_add_test(tc, track_lines);
	tcase_add_test(tc, name_limits);
	tcase_add_test(tc, lookups);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, real_lists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(feed_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
