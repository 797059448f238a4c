/*
 * check_ipset.c -- unit tests for ipset.c: longest-prefix match (nesting,
 * the default route, adjacent and edge ranges, IPv6, IPv4-mapped IPv6),
 * duplicates, the empty set, the text, line and rpz-ip parsers with each
 * kind of error and its column, and a randomized cross-check against a
 * brute-force linear longest-prefix match.
 *
 * Timing and memory targets are not tested here (bench/ipset-load
 * measures them).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipset.h"

/* Build a set from prefixes in text; prefix i gets the value i + 1. */
static struct ipset *
build(const char *const *pfx)
{
	struct ipset_builder *b;
	struct ipset *s;
	uint8_t	 a[16];
	unsigned plen;
	size_t	 i;
	char	 why[IPSET_WHYSZ];
	int	 af;

	ck_assert_ptr_nonnull(b = ipset_builder_new());
	for (i = 0; pfx[i] != NULL; i++) {
		ck_assert_msg(ipset_parse_text(pfx[i], strlen(pfx[i]), &af, a,
		    &plen, NULL, why, sizeof(why)) == 0, "%s: %s", pfx[i], why);
		ck_assert_int_eq(ipset_add(b, af, a, plen, (uint32_t)i + 1),
		    IPSET_NEW);
	}
	ck_assert_ptr_nonnull(s = ipset_build(b));
	return s;
}

/* Look addr up; want is "prefix/len=value" or NULL for no match. */
static void
expect(const struct ipset *s, const char *addr, const char *want)
{
	struct ipset_match m;
	uint8_t	 a[16];
	char	 buf[IPSET_STRLEN], got[IPSET_STRLEN + 16];
	int	 af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, addr, a), 1);
	if (!ipset_lookup(s, af, a, &m)) {
		ck_assert_msg(want == NULL, "%s: no match, want %s", addr,
		    want);
		return;
	}
	snprintf(got, sizeof(got), "%s=%u", ipset_format(m.af, m.addr, m.plen,
	    buf, sizeof(buf)), m.value);
	ck_assert_msg(want != NULL && strcmp(got, want) == 0,
	    "%s: got %s, want %s", addr, got, want ? want : "no match");
}

START_TEST(nested)
{
	static const char *const pfx[] = {
		"10.1.2.3/32", "10.0.0.0/8", "10.1.0.0/16", NULL
	};
	struct ipset *s = build(pfx);

	expect(s, "10.1.2.3", "10.1.2.3/32=1");
	expect(s, "10.1.2.2", "10.1.0.0/16=3");
	expect(s, "10.1.2.4", "10.1.0.0/16=3");
	expect(s, "10.1.0.0", "10.1.0.0/16=3");
	expect(s, "10.1.255.255", "10.1.0.0/16=3");
	expect(s, "10.0.255.255", "10.0.0.0/8=2");
	expect(s, "10.2.0.0", "10.0.0.0/8=2");
	expect(s, "10.0.0.0", "10.0.0.0/8=2");
	expect(s, "10.255.255.255", "10.0.0.0/8=2");
	expect(s, "9.255.255.255", NULL);
	expect(s, "11.0.0.0", NULL);
	expect(s, "0.0.0.0", NULL);
	expect(s, "255.255.255.255", NULL);
	ck_assert_uint_eq(ipset_count(s), 3);
	ipset_free(s);
}
END_TEST

START_TEST(nested_same_start)
{
	/* Prefixes sharing their first address, and ending together. */
	static const char *const pfx[] = {
		"10.0.0.0/32", "10.0.0.0/8", "10.0.0.0/24", "10.255.255.0/24",
		"10.255.255.255/32", "10.255.0.0/16", NULL
	};
	struct ipset *s = build(pfx);

	expect(s, "10.0.0.0", "10.0.0.0/32=1");
	expect(s, "10.0.0.1", "10.0.0.0/24=3");
	expect(s, "10.0.1.0", "10.0.0.0/8=2");
	expect(s, "10.254.255.255", "10.0.0.0/8=2");
	expect(s, "10.255.0.0", "10.255.0.0/16=6");
	expect(s, "10.255.254.255", "10.255.0.0/16=6");
	expect(s, "10.255.255.0", "10.255.255.0/24=4");
	expect(s, "10.255.255.254", "10.255.255.0/24=4");
	expect(s, "10.255.255.255", "10.255.255.255/32=5");
	expect(s, "11.0.0.0", NULL);
	ipset_free(s);
}
END_TEST

START_TEST(default_route)
{
	static const char *const pfx[] = {
		"0.0.0.0/0", "192.0.2.0/24", "::/0", "2001:db8::/32",
		"255.255.255.255/32", NULL
	};
	struct ipset *s = build(pfx);

	expect(s, "0.0.0.0", "0.0.0.0/0=1");
	expect(s, "1.1.1.1", "0.0.0.0/0=1");
	expect(s, "192.0.2.77", "192.0.2.0/24=2");
	expect(s, "192.0.3.0", "0.0.0.0/0=1");
	expect(s, "255.255.255.254", "0.0.0.0/0=1");
	expect(s, "255.255.255.255", "255.255.255.255/32=5");
	expect(s, "::", "::/0=3");
	expect(s, "2001:db8:ffff::1", "2001:db8::/32=4");
	expect(s, "2001:db9::", "::/0=3");
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0=3");
	ipset_free(s);
}
END_TEST

START_TEST(adjacent)
{
	static const char *const pfx[] = {
		"192.0.2.0/25", "192.0.2.128/25", "192.0.3.0/24",
		"198.51.100.0/24", "198.51.101.0/24", "0.0.0.0/32",
		"203.0.113.7/32", "203.0.113.8/32", NULL
	};
	struct ipset_builder *b;
	struct ipset *s = build(pfx);

	expect(s, "192.0.1.255", NULL);
	expect(s, "192.0.2.0", "192.0.2.0/25=1");
	expect(s, "192.0.2.127", "192.0.2.0/25=1");
	expect(s, "192.0.2.128", "192.0.2.128/25=2");
	expect(s, "192.0.2.255", "192.0.2.128/25=2");
	expect(s, "192.0.3.0", "192.0.3.0/24=3");
	expect(s, "192.0.4.0", NULL);
	expect(s, "0.0.0.0", "0.0.0.0/32=6");
	expect(s, "0.0.0.1", NULL);
	expect(s, "203.0.113.6", NULL);
	expect(s, "203.0.113.7", "203.0.113.7/32=7");
	expect(s, "203.0.113.8", "203.0.113.8/32=8");
	expect(s, "203.0.113.9", NULL);
	ipset_free(s);

	/*
	 * Adjacent prefixes of one length and value share a range: the
	 * prefix reported still is the one holding the address.
	 */
	ck_assert_ptr_nonnull(b = ipset_builder_new());
	ck_assert_int_eq(ipset_add(b, AF_INET, (const uint8_t *)"\xc6\x33\x64",
	    24, 7), IPSET_NEW);
	ck_assert_int_eq(ipset_add(b, AF_INET, (const uint8_t *)"\xc6\x33\x65",
	    24, 7), IPSET_NEW);
	ck_assert_ptr_nonnull(s = ipset_build(b));
	expect(s, "198.51.100.255", "198.51.100.0/24=7");
	expect(s, "198.51.101.0", "198.51.101.0/24=7");
	expect(s, "198.51.102.0", NULL);
	ipset_free(s);
}
END_TEST

START_TEST(ipv6)
{
	static const char *const pfx[] = {
		"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1/128",
		"2001:db8:1:2::/64", "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:"
		"ffff:ffff/128", "2001:db8:0:ffff::/64", NULL
	};
	struct ipset *s = build(pfx);

	expect(s, "2001:db8::", "2001:db8::/32=1");
	expect(s, "2001:db8:1::1", "2001:db8:1::1/128=3");
	expect(s, "2001:db8:1::", "2001:db8:1::/48=2");
	expect(s, "2001:db8:1::2", "2001:db8:1::/48=2");
	expect(s, "2001:db8:1:2:ffff::", "2001:db8:1:2::/64=4");
	expect(s, "2001:db8:1:3::", "2001:db8:1::/48=2");
	expect(s, "2001:db8:0:ffff:1::", "2001:db8:0:ffff::/64=7");
	expect(s, "2001:db8:0:fffe::", "2001:db8::/32=1");
	expect(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32=1");
	expect(s, "2001:db9::", NULL);
	expect(s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
	expect(s, "::", "::/128=5");
	expect(s, "::1", NULL);
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128=6");
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL);
	/* The families never mix, except for mapped addresses. */
	expect(s, "0.0.0.0", NULL);
	ipset_free(s);
}
END_TEST

START_TEST(v4mapped)
{
	static const char *const pfx[] = {
		"192.0.2.0/24", "::/0", "::ffff:203.0.113.0/120",
		"::ffff:198.51.100.7", "::/80", NULL
	};
	static const char *const all[] = { "::ffff:0:0/96", NULL };
	struct ipset_builder *b;
	struct ipset *s = build(pfx);
	uint8_t	 a[16];
	uint32_t v;

	/* An AAAA holding an IPv4-mapped address: IPv4 prefixes first. */
	expect(s, "::ffff:192.0.2.5", "192.0.2.0/24=1");
	expect(s, "::ffff:203.0.113.200", "203.0.113.0/24=3");
	expect(s, "::ffff:198.51.100.7", "198.51.100.7/32=4");
	/* No IPv4 match: the IPv6 prefixes holding it. */
	expect(s, "::ffff:192.0.3.1", "::/80=5");
	expect(s, "::fffe:192.0.2.5", "::/80=5");
	expect(s, "2001:db8::1", "::/0=2");
	/* Mapped prefixes were stored as IPv4: they match A records. */
	expect(s, "203.0.113.9", "203.0.113.0/24=3");
	expect(s, "198.51.100.7", "198.51.100.7/32=4");
	/* An A record never matches IPv6 prefixes (::/0 here). */
	expect(s, "192.0.3.1", NULL);
	ck_assert_uint_eq(ipset_count(s), 5);
	ipset_free(s);

	/* ::ffff:0:0/96 is all of IPv4, 0.0.0.0/0: one prefix. */
	s = build(all);
	expect(s, "1.2.3.4", "0.0.0.0/0=1");
	expect(s, "::ffff:1.2.3.4", "0.0.0.0/0=1");
	expect(s, "2001:db8::1", NULL);
	ipset_free(s);

	ck_assert_ptr_nonnull(b = ipset_builder_new());
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:203.0.113.0", a), 1);
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 120, 1), IPSET_NEW);
	ck_assert_int_eq(ipset_add(b, AF_INET, a + 12, 24, 2), IPSET_DUP);
	ck_assert_int_eq(ipset_builder_get(b, AF_INET, a + 12, 24, &v), 1);
	ck_assert_uint_eq(v, 1);
	/* Not inside ::ffff:0:0/96: stays IPv6. */
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 95, 3), IPSET_NEW);
	ck_assert_uint_eq(ipset_builder_count(b), 2);
	ipset_builder_free(b);
}
END_TEST

START_TEST(duplicates)
{
	struct ipset_builder *b;
	struct ipset *s;
	uint8_t	 a[16];
	uint32_t v;

	ck_assert_ptr_nonnull(b = ipset_builder_new());
	ck_assert_int_eq(inet_pton(AF_INET, "10.0.0.5", a), 1);
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 32, 1), IPSET_NEW);
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 32, 2), IPSET_DUP);
	/* Host bits are cleared: 10.0.0.5/8 is 10.0.0.0/8. */
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 8, 3), IPSET_NEW);
	ck_assert_int_eq(inet_pton(AF_INET, "10.0.0.0", a), 1);
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 8, 4), IPSET_DUP);
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 9, 5), IPSET_NEW);
	ck_assert_int_eq(ipset_builder_get(b, AF_INET, a, 8, &v), 1);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_eq(ipset_builder_get(b, AF_INET, a, 10, &v), 0);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::", a), 1);
	ck_assert_int_eq(ipset_builder_get(b, AF_INET6, a, 32, &v), 0);
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 32, 6), IPSET_NEW);
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 32, 7), IPSET_DUP);
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 33, 8), IPSET_NEW);
	/* The same bytes as IPv4 are another prefix. */
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 32, 9), IPSET_NEW);
	ck_assert_uint_eq(ipset_builder_count(b), 6);
	/* Bad family or length. */
	ck_assert_int_eq(ipset_add(b, AF_UNIX, a, 8, 1), IPSET_ERR_INVAL);
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 33, 1), IPSET_ERR_INVAL);
	ck_assert_int_eq(ipset_add(b, AF_INET6, a, 129, 1), IPSET_ERR_INVAL);
	ck_assert_int_eq(ipset_builder_get(b, AF_UNIX, a, 8, &v), 0);
	ck_assert_ptr_nonnull(s = ipset_build(b));
	ck_assert_uint_eq(ipset_count(s), 6);
	expect(s, "10.0.0.5", "10.0.0.5/32=1");
	expect(s, "10.0.0.6", "10.0.0.0/9=5");
	expect(s, "10.128.0.0", "10.0.0.0/8=3");
	expect(s, "2001:db8::", "2001:db8::/33=8");
	expect(s, "2001:db8:8000::", "2001:db8::/32=6");
	expect(s, "32.1.13.184", "32.1.13.184/32=9");
	ipset_free(s);
}
END_TEST

START_TEST(empty)
{
	struct ipset_builder *b;
	struct ipset_stats st;
	struct ipset *s;
	struct ipset_match m;
	uint8_t	 a[16] = { 0 };

	ck_assert_ptr_nonnull(b = ipset_builder_new());
	ck_assert_uint_eq(ipset_builder_count(b), 0);
	ck_assert_int_eq(ipset_builder_get(b, AF_INET, a, 0, &m.value), 0);
	ck_assert_ptr_nonnull(s = ipset_build(b));
	ck_assert_uint_eq(ipset_count(s), 0);
	ck_assert_uint_le(ipset_memory(s), 4096);
	ck_assert_int_eq(ipset_lookup(s, AF_INET, a, &m), 0);
	ck_assert_int_eq(ipset_lookup(s, AF_INET6, a, &m), 0);
	a[10] = a[11] = 0xff;
	ck_assert_int_eq(ipset_lookup(s, AF_INET6, a, &m), 0);
	ck_assert_int_eq(ipset_lookup(s, AF_UNIX, a, &m), 0);
	ipset_stats(s, &st);
	ck_assert_uint_eq(st.v4 + st.v6 + st.v4_ranges + st.v6_ranges, 0);
	ipset_free(s);

	ck_assert_int_eq(ipset_lookup(NULL, AF_INET, a, &m), 0);
	ck_assert_uint_eq(ipset_count(NULL), 0);
	ck_assert_uint_eq(ipset_memory(NULL), 0);
	ck_assert_ptr_null(ipset_build(NULL));
	ipset_free(NULL);
	ipset_builder_free(NULL);
	/* A builder freed unbuilt. */
	ck_assert_ptr_nonnull(b = ipset_builder_new());
	ck_assert_int_eq(ipset_add(b, AF_INET, a, 0, 1), IPSET_NEW);
	ipset_builder_free(b);
}
END_TEST

/* A parse of s (length n); want "prefix/len" or "col: why". */
static void
text_n(const char *s, size_t n, const char *want)
{
	char	 why[IPSET_WHYSZ], got[IPSET_WHYSZ + 32];
	uint8_t	 a[16];
	unsigned plen;
	size_t	 col = 0;
	int	 af;

	if (ipset_parse_text(s, n, &af, a, &plen, &col, why, sizeof(why)) == 0)
		ipset_format(af, a, plen, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "%zu: %s", col, why);
	ck_assert_msg(strcmp(got, want) == 0, "\"%.*s\": got \"%s\", want "
	    "\"%s\"", (int)n, s, got, want);
}

static void
text(const char *s, const char *want)
{
	text_n(s, strlen(s), want);
}

START_TEST(parse_text)
{
	char	 big[1000];
	int	 af;

	text("192.0.2.1", "192.0.2.1/32");
	text("192.0.2.0/24", "192.0.2.0/24");
	text("2001:db8::/32", "2001:db8::/32");
	text("2001:db8::1", "2001:db8::1/128");
	text("2001:DB8::A/128", "2001:db8::a/128");
	text("0.0.0.0/0", "0.0.0.0/0");
	text("::/0", "::/0");
	text("192.0.2.0/024", "192.0.2.0/24");
	text("::ffff:192.0.2.1", "::ffff:192.0.2.1/128");
	text("::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120");
	/* Only len bytes are read. */
	text_n("192.0.2.1999", 9, "192.0.2.1/32");
	text_n("10.0.0.0/8 junk", 10, "10.0.0.0/8");

	/* Bad addresses. */
	text("", "1: missing address");
	text("300.1.2.3", "1: bad address \"300.1.2.3\"");
	text("1.2.3", "1: bad address \"1.2.3\"");
	text("192.0.2.01", "1: bad address \"192.0.2.01\"");
	text("example.com", "1: bad address \"example.com\"");
	text("2001:db8:::1", "1: bad address \"2001:db8:::1\"");
	text("/24", "1: bad address \"/24\"");
	text("\x01\xff", "1: bad address \"??\"");
	memset(big, '1', sizeof(big));
	text_n(big, sizeof(big), "1: bad address \"1111111111111111111111111"
	    "111111111111111...\"");

	/* Prefix lengths. */
	text("192.0.2.0/33", "11: prefix length 33 out of range (0-32)");
	text("2001:db8::/129", "12: prefix length 129 out of range (0-128)");
	text("192.0.2.0/0024", "11: prefix length 0024 out of range (0-32)");
	text("192.0.2.0/99999999999", "11: prefix length 99999999999 out of "
	    "range (0-32)");
	text("192.0.2.0/", "11: missing prefix length after '/'");
	text("192.0.2.0/x", "11: missing prefix length after '/'");
	text("192.0.2.0/-1", "11: missing prefix length after '/'");

	/* Host bits. */
	text("192.0.2.1/24", "1: 192.0.2.1/24: host bits set (192.0.2.0/24?)");
	text("2001:db8::1/32",
	    "1: 2001:db8::1/32: host bits set (2001:db8::/32?)");
	text("0.0.0.1/0", "1: 0.0.0.1/0: host bits set (0.0.0.0/0?)");

	/* Trailing garbage. */
	text("192.0.2.1x", "10: trailing garbage \"x\"");
	text("192.0.2.0/24x", "13: trailing garbage \"x\"");
	text("192.0.2.0/24/8", "13: trailing garbage \"/8\"");
	text("fe80::1%eth0", "8: trailing garbage \"%eth0\"");
	text("192.0.2.1 ", "10: trailing garbage \" \"");
	text_n("1.2.3.4\0", 8, "8: trailing garbage \"?\"");

	/* why and errcol may be NULL. */
	ck_assert_int_eq(ipset_parse_text("1.2.3", 5, &af, (uint8_t *)big,
	    (unsigned *)&af, NULL, NULL, 0), -1);
}
END_TEST

/* A line; want "prefix/len", "nothing" or "col: why". */
static void
line(const char *s, const char *want)
{
	char	 why[IPSET_WHYSZ], got[IPSET_WHYSZ + 32];
	uint8_t	 a[16];
	unsigned plen;
	size_t	 col = 0;
	int	 af, r;

	r = ipset_parse_line(s, strlen(s), &af, a, &plen, &col, why,
	    sizeof(why));
	if (r == 1)
		ipset_format(af, a, plen, got, sizeof(got));
	else if (r == 0)
		snprintf(got, sizeof(got), "nothing");
	else
		snprintf(got, sizeof(got), "%zu: %s", col, why);
	ck_assert_msg(r >= -1 && r <= 1 && strcmp(got, want) == 0,
	    "\"%s\": got \"%s\" (%d), want \"%s\"", s, got, r, want);
}

START_TEST(parse_line)
{
	line("192.0.2.1", "192.0.2.1/32");
	line("192.0.2.1\n", "192.0.2.1/32");
	line("192.0.2.0/24\r\n", "192.0.2.0/24");
	line("  \t192.0.2.0/24  \t\r\n", "192.0.2.0/24");
	line("2001:db8::/32 # documentation", "2001:db8::/32");
	line("2001:db8::/32\t; a comment", "2001:db8::/32");
	line("10.0.0.0/8#comment", "10.0.0.0/8");
	line("10.0.0.0/8;comment", "10.0.0.0/8");
	line("", "nothing");
	line("\n", "nothing");
	line("\r\n", "nothing");
	line("   \t  \r\n", "nothing");
	line("# a comment 192.0.2.1", "nothing");
	line("  ; another", "nothing");
	line("#", "nothing");

	line("192.0.2.1 192.0.2.2", "11: unexpected \"192.0.2.2\" after the "
	    "address");
	line("0.0.0.0 example.com # hosts", "9: unexpected \"example.com\" "
	    "after the address");
	line("  192.0.2.1  x\r\n", "14: unexpected \"x\" after the address");
	line("  300.1.2.3", "3: bad address \"300.1.2.3\"");
	line("\t192.0.2.1/24", "2: 192.0.2.1/24: host bits set "
	    "(192.0.2.0/24?)");
	line(" 192.0.2.0/40 # x", "12: prefix length 40 out of range (0-32)");
	line("192.0.2.1,192.0.2.2", "10: trailing garbage \",192.0.2.2\"");
	line("example.com", "1: bad address \"example.com\"");
	/* A lone CR is a blank, not a line end. */
	line("192.0.2.1\r192.0.2.2", "11: unexpected \"192.0.2.2\" after the "
	    "address");
}
END_TEST

/* An rpz-ip owner; want "prefix/len" or the reason. */
static void
rpz(const char *s, const char *want)
{
	char	 why[IPSET_WHYSZ], got[IPSET_WHYSZ + 32];
	uint8_t	 a[16], wire[300];
	unsigned plen;
	size_t	 n = 0, i, start = 0;
	int	 af;

	if (ipset_parse_rpz_owner(s, strlen(s), &af, a, &plen, why,
	    sizeof(why)) == 0)
		ipset_format(af, a, plen, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "%s", why);
	ck_assert_msg(strcmp(got, want) == 0, "\"%s\": got \"%s\", want "
	    "\"%s\"", s, got, want);

	/* The wire form says the same, when it has one. */
	for (i = 0; i <= strlen(s); i++) {
		if (s[i] != '.' && s[i] != '\0')
			continue;
		if (i == start || i - start > 63 || n + i - start + 1 >
		    sizeof(wire))
			return;
		wire[n++] = (uint8_t)(i - start);
		memcpy(wire + n, s + start, i - start);
		n += i - start;
		start = i + 1;
	}
	if (ipset_parse_rpz_ip(wire, n, &af, a, &plen, why, sizeof(why)) == 0)
		ipset_format(af, a, plen, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "%s", why);
	ck_assert_msg(strcmp(got, want) == 0, "wire \"%s\": got \"%s\", want "
	    "\"%s\"", s, got, want);
}

START_TEST(parse_rpz)
{
	char	 why[IPSET_WHYSZ];
	uint8_t	 a[16];
	unsigned plen;
	int	 af;

	rpz("32.4.3.2.1", "1.2.3.4/32");
	rpz("24.0.2.0.192", "192.0.2.0/24");
	rpz("8.0.0.0.10", "10.0.0.0/8");
	rpz("1.0.0.0.128", "128.0.0.0/1");
	rpz("32.4.3.2.01", "1.2.3.4/32");
	rpz("128.1.zz.db8.2001", "2001:db8::1/128");
	rpz("128.1.ZZ.DB8.2001", "2001:db8::1/128");
	/* zz first: the last groups are zero. */
	rpz("48.zz.1.db8.2001", "2001:db8:1::/48");
	rpz("64.zz.2001", "2001::/64");
	/* zz last: the first groups are zero. */
	rpz("128.1.zz", "::1/128");
	rpz("128.1.2.3.zz", "::3:2:1/128");
	rpz("64.zz", "::/64");
	/* zz in the middle, standing for one group or several. */
	rpz("128.8.7.6.5.4.zz.2.1", "1:2:0:4:5:6:7:8/128");
	rpz("128.8.zz.1", "1::8/128");
	rpz("128.8.7.6.5.4.3.2.1", "1:2:3:4:5:6:7:8/128");
	rpz("128.0.0.0.0.0.0.0.0", "::/128");
	rpz("96.0.0.ffff.zz", "::ffff:0.0.0.0/96");
	rpz("128.201.c000.ffff.zz", "::ffff:192.0.2.1/128");

	/* Bad ones. */
	rpz("32.5.4.3.2.1", "5 labels after the prefix length: IPv4 needs 4, "
	    "IPv6 8 or a zz");
	rpz("24.2.0.192", "3 labels after the prefix length: IPv4 needs 4, "
	    "IPv6 8 or a zz");
	rpz("33.4.3.2.1", "IPv4 prefix length 33 out of range (1-32)");
	rpz("0.4.3.2.1", "IPv4 prefix length 0 out of range (1-32)");
	rpz("64.4.3.2.1", "IPv4 prefix length 64 out of range (1-32)");
	rpz("129.1.zz", "IPv6 prefix length 129 out of range (1-128)");
	rpz("0.zz", "IPv6 prefix length 0 out of range (1-128)");
	rpz("128.1.zz.2.zz", "more than one zz");
	rpz("128.zz.zz", "more than one zz");
	rpz("24.1.2.0.192", "host bits set beyond /24 (192.0.2.0/24?)");
	rpz("32.1.zz.db8.2001", "host bits set beyond /32 (2001:db8::/32?)");
	rpz("32.256.3.2.1", "bad IPv4 octet \"256\"");
	rpz("32.4.3.2.a", "bad IPv4 octet \"a\"");
	rpz("32.4.3.2.1x", "bad IPv4 octet \"1x\"");
	rpz("32.1000.3.2.1", "bad IPv4 octet \"1000\"");
	rpz("128.12345.zz", "bad IPv6 group \"12345\"");
	rpz("128.1.zz.g", "bad IPv6 group \"g\"");
	rpz("128.1.z.zz", "bad IPv6 group \"z\"");
	rpz("128.8.7.6.5.4.3.2.g1", "bad IPv6 group \"g1\"");
	rpz("x.4.3.2.1", "bad prefix length \"x\"");
	rpz("0032.4.3.2.1", "bad prefix length \"0032\"");
	rpz("32", "no address after the prefix length");
	rpz("128.1.2.3.4.5.6.7.8.9", "too many labels in rpz-ip trigger "
	    "\"128.1.2.3.4.5.6.7.8.9\"");
	rpz("32..3.2.1", "empty label in rpz-ip trigger \"32..3.2.1\"");
	rpz("32.4.3.2.1.", "empty label in rpz-ip trigger \"32.4.3.2.1.\"");
	rpz(".32.4.3.2.1", "empty label in rpz-ip trigger \".32.4.3.2.1\"");
	rpz("", "empty rpz-ip trigger");

	/* Wire forms the text cannot show. */
	ck_assert_int_eq(ipset_parse_rpz_ip((const uint8_t *)"\x05" "32",
	    3, &af, a, &plen, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "malformed rpz-ip owner name");
	ck_assert_int_eq(ipset_parse_rpz_ip((const uint8_t *)"\x02" "32\0",
	    4, &af, a, &plen, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "malformed rpz-ip owner name");
	ck_assert_int_eq(ipset_parse_rpz_ip((const uint8_t *)"\x02" "32"
	    "\x03" "4.3" "\x01" "2" "\x01" "1", 11, &af, a, &plen, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "invalid character 0x2e in rpz-ip trigger");
	ck_assert_int_eq(ipset_parse_rpz_ip((const uint8_t *)"\x02" "32"
	    "\x01" "4" "\x01" "3" "\x01" "2" "\x01" "1", 11, &af, a, &plen,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(af, AF_INET);
	ck_assert_uint_eq(plen, 32);
	ck_assert_mem_eq(a, "\x01\x02\x03\x04", 4);
}
END_TEST

START_TEST(format_stats)
{
	static const char *const pfx[] = {
		"10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", NULL
	};
	struct ipset_stats st;
	struct ipset *s = build(pfx);
	char	 buf[IPSET_STRLEN];

	ipset_stats(s, &st);
	ck_assert_uint_eq(st.v4, 2);
	ck_assert_uint_eq(st.v6, 1);
	/* 10/8, 10.1/16, 10.2 (back to 10/8), 11 (none). */
	ck_assert_uint_eq(st.v4_ranges, 4);
	/* 2001:db8::, 2001:db9:: (none). */
	ck_assert_uint_eq(st.v6_ranges, 2);
	ck_assert_uint_ge(ipset_memory(s), st.v4_bytes + st.v6_bytes);
	ck_assert_str_eq(ipset_format(AF_UNIX, (const uint8_t *)"", 0, buf,
	    sizeof(buf)), "?");
	ipset_free(s);
}
END_TEST

/*
 * The randomized cross-check.  A reference prefix lives in one 128-bit
 * space where IPv4 a.b.c.d/n is ::ffff:a.b.c.d/(96 + n), as ipset.h
 * describes: an A record matches the prefixes inside ::ffff:0:0/96, an
 * AAAA every prefix, and the longest wins (the first added among equals).
 */
struct ref {
	uint64_t	 hi, lo, mhi, mlo;
	unsigned	 plen;		/* in the 128-bit space */
	int		 v4;		/* inside ::ffff:0:0/96 */
	uint32_t	 value;
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* addr (4 or 16 bytes) as 16 bytes of the shared space. */
static void
to_space(int af, const uint8_t *addr, unsigned plen, uint8_t *out,
    unsigned *splen)
{
	memset(out, 0, 16);
	if (af == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, addr, 4);
		*splen = plen + 96;
	} else {
		memcpy(out, addr, 16);
		*splen = plen;
	}
}

static void
ref_set(struct ref *r, const uint8_t *a16, unsigned splen, uint32_t value)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	r->plen = splen;
	r->mhi = splen == 0 ? 0 : splen >= 64 ? ~0ULL : ~0ULL << (64 - splen);
	r->mlo = splen <= 64 ? 0 : splen == 128 ? ~0ULL :
	    ~0ULL << (128 - splen);
	r->hi = get64(a16) & r->mhi;
	r->lo = get64(a16 + 8) & r->mlo;
	r->v4 = splen >= 96 && memcmp(a16, mapped, 12) == 0;
	r->value = value;
}

/* Whether the prefix r is in refs already. */
static int
ref_has(const struct ref *refs, size_t n, const struct ref *r)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (refs[i].plen == r->plen && refs[i].hi == r->hi &&
		    refs[i].lo == r->lo)
			return 1;
	return 0;
}

static const struct ref *
ref_lookup(const struct ref *refs, size_t n, const uint8_t *a16, int only_v4)
{
	const struct ref *best = NULL;
	uint64_t hi = get64(a16), lo = get64(a16 + 8);
	size_t	 i;

	for (i = 0; i < n; i++) {
		const struct ref *r = &refs[i];

		if ((only_v4 && !r->v4) || ((hi & r->mhi) != r->hi) ||
		    ((lo & r->mlo) != r->lo))
			continue;
		if (best == NULL || r->plen > best->plen)
			best = r;
	}
	return best;
}

/* A random prefix length for the family, weighted like real feeds. */
static unsigned
rand_plen(int af)
{
	static const unsigned v4[] = { 0, 4, 8, 12, 16, 20, 22, 24, 24, 26,
	    28, 30, 31, 32, 32, 32 };
	static const unsigned v6[] = { 0, 8, 16, 29, 32, 40, 48, 48, 56, 60,
	    64, 64, 80, 96, 100, 112, 120, 127, 128, 128 };

	if (rng() % 8 == 0)
		return (unsigned)(rng() % (af == AF_INET ? 33 : 129));
	if (af == AF_INET)
		return v4[rng() % (sizeof(v4) / sizeof(v4[0]))];
	return v6[rng() % (sizeof(v6) / sizeof(v6[0]))];
}

/*
 * Random bytes; when narrow, inside a few small regions so that prefixes
 * nest and lookups hit: 10.0.0.0/12 and 2001:db8::/40 (and the IPv4-
 * mapped range, unless v6_narrow: then everything is in 2001:db8::/32).
 */
static void
rand_addr(int af, uint8_t *a, int v6_narrow)
{
	uint64_t r1 = rng(), r2 = rng();
	unsigned k = (unsigned)(rng() % 8);

	memcpy(a, &r1, 8);
	memcpy(a + 8, &r2, 8);
	if (af == AF_INET) {
		if (k < 6) {
			a[0] = 10;
			a[1] &= 0x0f;
		}
		return;
	}
	if (v6_narrow)
		k = 0;
	if (k < 5) {
		memcpy(a, "\x20\x01\x0d\xb8", 4);
		a[4] &= v6_narrow ? 0xff : 0x01;
		if (k < 3)
			a[5] &= 0x03;
	} else if (k < 7) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		a[12] = 10;
		a[13] &= 0x0f;
	}
}

/* Report a lookup that differs from the reference. */
static void
lookup_fail(size_t i, int af, const uint8_t *a, const struct ipset_match *m,
    const struct ref *want)
{
	char	 ab[IPSET_STRLEN], gb[IPSET_STRLEN];

	ck_abort_msg("lookup %zu of %s: got %s value %u, want /%u value %u "
	    "(v4 %d)", i, ipset_format(af, a, af == AF_INET ? 32 : 128, ab,
	    sizeof(ab)), m ? ipset_format(m->af, m->addr, m->plen, gb,
	    sizeof(gb)) : "none", m ? m->value : 0, want ? want->plen : 0,
	    want ? want->value : 0, want ? want->v4 : 0);
}

/*
 * nprefix random prefixes (a twentieth of them repeated), nlookup random
 * lookups compared with the reference.  Returns how many matched.
 */
static size_t
random_check(unsigned seed, size_t nprefix, size_t nlookup, int v6_narrow)
{
	struct ipset_builder *b;
	struct ipset *s;
	struct ref *refs;
	struct ipset_match m;
	uint8_t (*keep)[16];
	uint8_t	 a[16], sp[16];
	unsigned *kplen, splen;
	size_t	 i, n = 0, hits = 0;
	int	 *kaf;

	rng_state = 0x9e3779b97f4a7c15ULL * seed;
	ck_assert_ptr_nonnull(refs = calloc(nprefix, sizeof(*refs)));
	ck_assert_ptr_nonnull(keep = calloc(nprefix, sizeof(*keep)));
	ck_assert_ptr_nonnull(kplen = calloc(nprefix, sizeof(*kplen)));
	ck_assert_ptr_nonnull(kaf = calloc(nprefix, sizeof(*kaf)));
	ck_assert_ptr_nonnull(b = ipset_builder_new());
	for (i = 0; i < nprefix; i++) {
		int	 af = i % 2 ? AF_INET6 : AF_INET, dup;
		unsigned plen = rand_plen(af);
		enum ipset_add r;

		/* Some prefixes again, with another value. */
		if (i > 10 && rng() % 20 == 0) {
			size_t	 j = (size_t)(rng() % i);

			af = kaf[j];
			plen = kplen[j];
			memcpy(a, keep[j], 16);
		} else
			rand_addr(af, a, v6_narrow);
		to_space(af, a, plen, sp, &splen);
		ref_set(&refs[n], sp, splen, (uint32_t)i);
		dup = ref_has(refs, n, &refs[n]);
		r = ipset_add(b, af, a, plen, (uint32_t)i);
		if (r != (dup ? IPSET_DUP : IPSET_NEW))
			ck_abort_msg("prefix %zu: add %d, want %s", i, r,
			    dup ? "dup" : "new");
		if (!dup)
			n++;
		kaf[i] = af;
		kplen[i] = plen;
		memcpy(keep[i], a, 16);
	}
	ck_assert_uint_eq(ipset_builder_count(b), n);
	ck_assert_ptr_nonnull(s = ipset_build(b));
	ck_assert_uint_eq(ipset_count(s), n);

	for (i = 0; i < nlookup; i++) {
		const struct ref *want;
		int	 af = rng() % 2 ? AF_INET6 : AF_INET, got;
		size_t	 j;

		/* Mostly inside a random prefix, some anywhere. */
		rand_addr(af, a, v6_narrow);
		j = (size_t)(rng() % nprefix);
		if (rng() % 4 != 0 && kaf[j] == af) {
			unsigned k, p = kplen[j];

			for (k = 0; k < p / 8; k++)
				a[k] = keep[j][k];
			if (p % 8)
				a[k] = (uint8_t)((keep[j][k] &
				    (0xff00 >> (p % 8))) |
				    (a[k] & (0xff >> (p % 8))));
		}
		to_space(af, a, af == AF_INET ? 32 : 128, sp, &splen);
		want = ref_lookup(refs, n, sp, af == AF_INET);
		got = ipset_lookup(s, af, a, &m);
		if (got != (want != NULL))
			lookup_fail(i, af, a, got ? &m : NULL, want);
		if (!got)
			continue;
		hits++;
		to_space(m.af, m.addr, m.plen, sp, &splen);
		if (splen != want->plen || get64(sp) != want->hi ||
		    get64(sp + 8) != want->lo || m.value != want->value ||
		    m.af != (want->v4 ? AF_INET : AF_INET6))
			lookup_fail(i, af, a, &m, want);
	}
	ipset_free(s);
	free(refs);
	free(keep);
	free(kplen);
	free(kaf);
	return hits;
}

START_TEST(random_mixed)
{
	/* The test means something only when most lookups match. */
	ck_assert_uint_gt(random_check(1, 2000, 100000, 0), 50000);
}
END_TEST

START_TEST(random_narrow)
{
	/* IPv6 all in 2001:db8::/32: the index skips the shared bits. */
	ck_assert_uint_gt(random_check(2, 600, 20000, 1), 10000);
}
END_TEST

START_TEST(random_tiny)
{
	unsigned seed;

	for (seed = 10; seed < 60; seed++)
		(void)random_check(seed, 1 + seed % 7, 500, seed % 2);
}
END_TEST

static void
mask(uint8_t *a, size_t len, unsigned plen)
{
	size_t	 k = plen / 8;

	if (k < len) {
		a[k] &= (uint8_t)(0xff00u >> (plen % 8));
		memset(a + k + 1, 0, len - k - 1);
	}
}

/*
 * Many prefixes (a big index): each /32 and /128 finds itself, each
 * network address a prefix at least as long as its own.
 */
START_TEST(many)
{
	struct ipset_builder *b;
	struct ipset_stats st;
	struct ipset *s;
	struct ipset_match m;
	uint8_t	(*keep)[17];
	size_t	 i, n = 200000, added = 0;

	rng_state = 42;
	ck_assert_ptr_nonnull(keep = calloc(n, sizeof(*keep)));
	ck_assert_ptr_nonnull(b = ipset_builder_new());
	for (i = 0; i < n; i++) {
		uint64_t r1 = rng(), r2 = rng();
		int	 v6 = i % 10 == 0;
		unsigned plen = v6 ? 48 + (unsigned)(r2 % 81) :
		    r2 % 10 < 6 ? 32 : r2 % 10 < 9 ? 24 : 16;
		uint8_t	*a = keep[i];

		memcpy(a, &r1, 8);
		memcpy(a + 8, &r2, 8);
		a[16] = (uint8_t)plen;
		if (v6)
			a[0] = 0x20 | (a[0] & 0x1f);
		else if (a[0] == 0)
			a[0] = 1;
		mask(a, v6 ? 16 : 4, plen);
		if (ipset_add(b, v6 ? AF_INET6 : AF_INET, a, plen,
		    (uint32_t)i) == IPSET_NEW)
			added++;
	}
	ck_assert_ptr_nonnull(s = ipset_build(b));
	ck_assert_uint_eq(ipset_count(s), added);
	ipset_stats(s, &st);
	/* The bounds of ipset.h. */
	ck_assert_uint_le(st.v4_bytes, st.v4 * 19 + 4096);
	ck_assert_uint_le(st.v6_bytes, st.v6 * 44 + 4096);
	for (i = 0; i < n; i++) {
		int	 v6 = i % 10 == 0;
		unsigned plen = keep[i][16];

		/* ck_assert costs a write(2) each: only on failure. */
		if (!ipset_lookup(s, v6 ? AF_INET6 : AF_INET, keep[i], &m) ||
		    m.plen < plen || memcmp(m.addr, keep[i], plen / 8) != 0 ||
		    (plen == (v6 ? 128u : 32u) && memcmp(m.addr, keep[i],
		    v6 ? 16 : 4) != 0))
			ck_abort_msg("prefix %zu (/%u) not found", i, plen);
	}
	ipset_free(s);
	free(keep);
}
END_TEST

static Suite *
ipset_suite(void)
{
	Suite	*s = suite_create("ipset");
	TCase	*tc;

	tc = tcase_create("match");
	tcase_add_test(tc, nested);
	tcase_add_test(tc, nested_same_start);
	tcase_add_test(tc, default_route);
	tcase_add_test(tc, adjacent);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, v4mapped);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, format_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_text);
	tcase_add_test(tc, parse_line);
	tcase_add_test(tc, parse_rpz);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_mixed);
	tcase_add_test(tc, random_narrow);
	tcase_add_test(tc, random_tiny);
	tcase_add_test(tc, many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(ipset_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
