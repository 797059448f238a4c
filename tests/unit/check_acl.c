/*
 * check_acl.c -- unit tests for acl.c (CIDR parsing and matching) and for
 * addr.c (the address spellings every module accepts), which the ACL tests
 * lean on to build client addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "addr.h"

/* A client address from a bare IP literal. */
static struct sockaddr *
client(struct addr *a, const char *ip)
{
	const char	*why;

	ck_assert_msg(addr_parse(ip, 1234, a, &why) == 0, "%s: %s", ip, why);
	return (struct sockaddr *)&a->ss;
}

/* A list of the given networks, each of which must parse. */
static struct acl *
list(const char *const *nets)
{
	struct acl	*acl;
	struct acl_net	 net;
	const char	*why;

	ck_assert_ptr_nonnull(acl = acl_new());
	for (; *nets != NULL; nets++) {
		ck_assert_msg(acl_net_parse(*nets, &net, &why) == 0, "%s: %s",
		    *nets, why);
		ck_assert_int_eq(acl_add(acl, &net), 0);
	}
	return acl;
}

static int
in(const struct acl *acl, const char *ip)
{
	struct addr	 a;

	return acl_match(acl, client(&a, ip));
}

static void
net_bad(const char *text, const char *reason)
{
	struct acl_net	 net;
	const char	*why = NULL;

	ck_assert_msg(acl_net_parse(text, &net, &why) == -1, "%s parsed", text);
	ck_assert_str_eq(why, reason);
}

/*
 * acl_net_parse
 */

START_TEST(test_net_parse)
{
	struct acl_net	 net;
	const char	*why;
	static const uint8_t v4[4] = { 10, 0, 0, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t one[16] = { [15] = 1 };

	ck_assert_int_eq(acl_net_parse("10.0.0.0/8", &net, &why), 0);
	ck_assert_int_eq(net.family, AF_INET);
	ck_assert_uint_eq(net.prefixlen, 8);
	ck_assert_mem_eq(net.addr, v4, 4);

	ck_assert_int_eq(acl_net_parse("2001:db8::/32", &net, &why), 0);
	ck_assert_int_eq(net.family, AF_INET6);
	ck_assert_uint_eq(net.prefixlen, 32);
	ck_assert_mem_eq(net.addr, v6, 16);

	/* Host routes without "/len". */
	ck_assert_int_eq(acl_net_parse("192.0.2.1", &net, &why), 0);
	ck_assert_uint_eq(net.prefixlen, 32);
	ck_assert_int_eq(acl_net_parse("::1", &net, &why), 0);
	ck_assert_uint_eq(net.prefixlen, 128);
	ck_assert_mem_eq(net.addr, one, 16);

	ck_assert_int_eq(acl_net_parse("0.0.0.0/0", &net, &why), 0);
	ck_assert_uint_eq(net.prefixlen, 0);
	ck_assert_int_eq(acl_net_parse("::/0", &net, &why), 0);
	ck_assert_int_eq(acl_net_parse("192.0.2.1/32", &net, &why), 0);
	ck_assert_int_eq(acl_net_parse("::1/128", &net, &why), 0);
	ck_assert_int_eq(acl_net_parse("172.16.0.0/12", &net, &why), 0);
	ck_assert_int_eq(acl_net_parse("fc00::/7", &net, &why), 0);
	ck_assert_int_eq(acl_net_parse("fe00::/7", &net, &why), 0);
}
END_TEST

START_TEST(test_net_parse_bad)
{
	net_bad("10.0.0.1/8", "host bits set");
	net_bad("172.17.0.0/12", "host bits set");
	net_bad("fc00::1/7", "host bits set");
	net_bad("fd00::/7", "host bits set");
	net_bad("1.0.0.0/0", "host bits set");
	net_bad("10.0.0.0/33", "prefix too long");
	net_bad("::/129", "prefix too long");
	net_bad("10.0.0.0/999", "prefix too long");
	net_bad("10.0.0.0/", "bad prefix length");
	net_bad("10.0.0.0/-1", "bad prefix length");
	net_bad("10.0.0.0/8x", "bad prefix length");
	net_bad("10.0.0.0/ 8", "bad prefix length");
	net_bad("10.0.0.0/0008", "bad prefix length");
	net_bad("10.0.0.0/8/8", "bad prefix length");
	net_bad("", "empty network");
	net_bad(NULL, "empty network");
	net_bad("/8", "not an IP address");
	net_bad("10.0.0/8", "not an IP address");
	net_bad("256.0.0.0/8", "not an IP address");
	net_bad("example.com", "not an IP address");
	net_bad("[::1]/128", "not an IP address");
	net_bad(" 10.0.0.0/8", "not an IP address");
	net_bad("fe80::1%eth0/128", "not an IP address");
	net_bad("0000:0000:0000:0000:0000:0000:0000:0000:0000/8",
	    "not an IP address");
}
END_TEST

/*
 * acl_match
 */

START_TEST(test_match_v4)
{
	static const char *const nets[] = { "10.0.0.0/8", "172.16.0.0/12",
	    "192.0.2.1", NULL };
	struct acl	*acl = list(nets);

	ck_assert_uint_eq(acl_count(acl), 3);
	ck_assert_int_eq(in(acl, "10.0.0.0"), 1);
	ck_assert_int_eq(in(acl, "10.255.255.255"), 1);
	ck_assert_int_eq(in(acl, "11.0.0.0"), 0);
	ck_assert_int_eq(in(acl, "9.255.255.255"), 0);
	/* /12 edges: 172.16.0.0 .. 172.31.255.255 */
	ck_assert_int_eq(in(acl, "172.15.255.255"), 0);
	ck_assert_int_eq(in(acl, "172.16.0.0"), 1);
	ck_assert_int_eq(in(acl, "172.31.255.255"), 1);
	ck_assert_int_eq(in(acl, "172.32.0.0"), 0);
	/* /32 host route */
	ck_assert_int_eq(in(acl, "192.0.2.1"), 1);
	ck_assert_int_eq(in(acl, "192.0.2.0"), 0);
	ck_assert_int_eq(in(acl, "192.0.2.2"), 0);
	/* An IPv4 list says nothing about IPv6 clients. */
	ck_assert_int_eq(in(acl, "::1"), 0);
	ck_assert_int_eq(in(acl, "::a00:1"), 0);	/* ::10.0.0.1 */
	acl_free(acl);
}
END_TEST

START_TEST(test_match_v6)
{
	static const char *const nets[] = { "2001:db8::/32", "fc00::/7",
	    "::1/128", NULL };
	struct acl	*acl = list(nets);

	ck_assert_int_eq(in(acl, "2001:db8::"), 1);
	ck_assert_int_eq(in(acl, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 1);
	ck_assert_int_eq(in(acl, "2001:db9::"), 0);
	ck_assert_int_eq(in(acl, "2001:db7:ffff::"), 0);
	/* /7 edges: fc00:: .. fdff:ffff:... */
	ck_assert_int_eq(in(acl, "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    0);
	ck_assert_int_eq(in(acl, "fc00::"), 1);
	ck_assert_int_eq(in(acl, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    1);
	ck_assert_int_eq(in(acl, "fe00::"), 0);
	/* /128 */
	ck_assert_int_eq(in(acl, "::1"), 1);
	ck_assert_int_eq(in(acl, "::2"), 0);
	ck_assert_int_eq(in(acl, "::"), 0);
	ck_assert_int_eq(in(acl, "127.0.0.1"), 0);
	acl_free(acl);
}
END_TEST

START_TEST(test_match_all)
{
	static const char *const v4all[] = { "0.0.0.0/0", NULL };
	static const char *const v6all[] = { "::/0", NULL };
	struct acl	*acl;

	acl = list(v4all);
	ck_assert_int_eq(in(acl, "0.0.0.0"), 1);
	ck_assert_int_eq(in(acl, "255.255.255.255"), 1);
	ck_assert_int_eq(in(acl, "::ffff:8.8.8.8"), 1);
	ck_assert_int_eq(in(acl, "2001:db8::1"), 0);
	acl_free(acl);

	acl = list(v6all);
	ck_assert_int_eq(in(acl, "::"), 1);
	ck_assert_int_eq(in(acl, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    1);
	ck_assert_int_eq(in(acl, "8.8.8.8"), 0);
	acl_free(acl);
}
END_TEST

/* Dual-stack sockets see IPv4 clients as ::ffff:a.b.c.d. */
START_TEST(test_match_v4_mapped)
{
	static const char *const nets[] = { "10.0.0.0/8", "192.0.2.1", NULL };
	static const char *const mapped[] = { "::ffff:198.51.100.0/120",
	    NULL };
	struct acl	*acl;

	acl = list(nets);
	ck_assert_int_eq(in(acl, "::ffff:10.1.2.3"), 1);
	ck_assert_int_eq(in(acl, "::ffff:192.0.2.1"), 1);
	ck_assert_int_eq(in(acl, "::ffff:192.0.2.2"), 0);
	ck_assert_int_eq(in(acl, "::ffff:11.0.0.1"), 0);
	/* IPv4-compatible (not mapped) addresses are plain IPv6. */
	ck_assert_int_eq(in(acl, "::10.1.2.3"), 0);
	acl_free(acl);

	/* A network written in the mapped form still matches itself. */
	acl = list(mapped);
	ck_assert_int_eq(in(acl, "::ffff:198.51.100.7"), 1);
	ck_assert_int_eq(in(acl, "::ffff:198.51.101.7"), 0);
	acl_free(acl);
}
END_TEST

START_TEST(test_match_empty_null)
{
	struct acl	*acl;
	struct sockaddr	 sa;

	ck_assert_ptr_nonnull(acl = acl_new());
	ck_assert_uint_eq(acl_count(acl), 0);
	ck_assert_int_eq(in(acl, "127.0.0.1"), 0);
	ck_assert_int_eq(in(acl, "::1"), 0);
	acl_free(acl);

	ck_assert_int_eq(in(NULL, "127.0.0.1"), 0);
	ck_assert_int_eq(in(NULL, "::1"), 0);
	ck_assert_uint_eq(acl_count(NULL), 0);
	acl_free(NULL);

	/* Unknown families match nothing. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	ck_assert_ptr_nonnull(acl = acl_new());
	ck_assert_int_eq(acl_match(acl, &sa), 0);
	acl_free(acl);
}
END_TEST

/* Growth past the first allocation keeps every entry. */
START_TEST(test_many)
{
	struct acl	*acl;
	struct acl_net	 net;
	struct addr	 a;
	char		 buf[32];
	const char	*why;
	int		 i;

	ck_assert_ptr_nonnull(acl = acl_new());
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "10.%d.0.0/16", i);
		ck_assert_int_eq(acl_net_parse(buf, &net, &why), 0);
		ck_assert_int_eq(acl_add(acl, &net), 0);
	}
	ck_assert_uint_eq(acl_count(acl), 100);
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "10.%d.1.2", i);
		ck_assert_int_eq(acl_match(acl, client(&a, buf)), 1);
	}
	ck_assert_int_eq(in(acl, "10.100.1.2"), 0);
	acl_free(acl);
}
END_TEST

/*
 * addr_parse, addr_str and friends
 */

static void
addr_ok(const char *text, const char *str)
{
	struct addr	 a;
	const char	*why = NULL;
	char		 buf[ADDR_STRLEN];

	ck_assert_msg(addr_parse(text, 53, &a, &why) == 0, "%s: %s", text,
	    why);
	addr_str(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, str);
	ck_assert_uint_eq(a.len,
	    addr_sockaddr_len((struct sockaddr *)&a.ss));
}

static void
addr_bad(const char *text, const char *reason)
{
	struct addr	 a;
	const char	*why = NULL;

	ck_assert_msg(addr_parse(text, 53, &a, &why) == -1, "%s parsed",
	    text);
	ck_assert_str_eq(why, reason);
}

START_TEST(test_addr_parse)
{
	addr_ok("192.0.2.1", "192.0.2.1:53");
	addr_ok("192.0.2.1:5353", "192.0.2.1:5353");
	addr_ok("192.0.2.1:1", "192.0.2.1:1");
	addr_ok("192.0.2.1:65535", "192.0.2.1:65535");
	addr_ok("::1", "[::1]:53");
	addr_ok("::", "[::]:53");
	addr_ok("[::1]", "[::1]:53");
	addr_ok("[::1]:5353", "[::1]:5353");
	addr_ok("[2001:db8::1]:53", "[2001:db8::1]:53");
	addr_ok("2001:db8:0:0:0:0:0:1", "[2001:db8::1]:53");
	addr_ok("::ffff:192.0.2.1", "[::ffff:192.0.2.1]:53");
	/* Without brackets more than one colon is all address. */
	addr_ok("2001:db8::1:53", "[2001:db8::1:53]:53");
	addr_ok("[0000:0000:0000:0000:0000:ffff:255.255.255.255]:65535",
	    "[::ffff:255.255.255.255]:65535");
}
END_TEST

START_TEST(test_addr_parse_bad)
{
	addr_bad("", "empty address");
	addr_bad(NULL, "empty address");
	addr_bad("foo", "not an IP address");
	addr_bad("foo:bar", "not an IP address");
	addr_bad("localhost:53", "not an IP address");
	addr_bad("192.0.2", "not an IP address");
	addr_bad("192.0.2.256", "not an IP address");
	addr_bad(" 192.0.2.1", "not an IP address");
	addr_bad("192.0.2.1 ", "not an IP address");
	addr_bad(":53", "not an IP address");
	addr_bad("2001:db8::g", "not an IP address");
	addr_bad("fe80::1%eth0", "not an IP address");
	addr_bad("192.0.2.1:0", "port out of range (1..65535)");
	addr_bad("192.0.2.1:65536", "port out of range (1..65535)");
	addr_bad("192.0.2.1:99999", "port out of range (1..65535)");
	addr_bad("192.0.2.1:000053", "bad port");
	addr_bad("192.0.2.1:53x", "bad port");
	addr_bad("192.0.2.1:-1", "bad port");
	addr_bad("192.0.2.1: 53", "bad port");
	addr_bad("192.0.2.1:", "missing port");
	addr_bad("[::1]:", "missing port");
	addr_bad("[::1]:0", "port out of range (1..65535)");
	addr_bad("[::1]:53:53", "bad port");
	addr_bad("[::1", "missing ']'");
	addr_bad("[::1]x", "junk after ']'");
	addr_bad("[::1]]", "junk after ']'");
	addr_bad("[]", "not an IPv6 address");
	addr_bad("[]:53", "not an IPv6 address");
	addr_bad("[192.0.2.1]:53", "not an IPv6 address");
	addr_bad("[foo]", "not an IPv6 address");
}
END_TEST

START_TEST(test_addr_helpers)
{
	struct addr	 a, b;
	struct sockaddr	 unk;
	const char	*why;
	char		 buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(addr_parse("192.0.2.1:5353", 53, &a, &why), 0);
	ck_assert_int_eq(a.ss.ss_family, AF_INET);
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(addr_port((struct sockaddr *)&a.ss), 5353);
	addr_ip_str((struct sockaddr *)&a.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1");

	ck_assert_int_eq(addr_parse("[2001:db8::1]", 853, &b, &why), 0);
	ck_assert_int_eq(b.ss.ss_family, AF_INET6);
	ck_assert_uint_eq(b.len, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(addr_port((struct sockaddr *)&b.ss), 853);
	addr_ip_str((struct sockaddr *)&b.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::1");

	ck_assert_int_eq(addr_equal((struct sockaddr *)&a.ss,
	    (struct sockaddr *)&b.ss), 0);
	ck_assert_int_eq(addr_parse("2001:db8:0::1", 853, &a, &why), 0);
	ck_assert_int_eq(addr_equal((struct sockaddr *)&a.ss,
	    (struct sockaddr *)&b.ss), 1);
	ck_assert_int_eq(addr_parse("[2001:db8::1]:854", 53, &a, &why), 0);
	ck_assert_int_eq(addr_equal((struct sockaddr *)&a.ss,
	    (struct sockaddr *)&b.ss), 0);
	ck_assert_int_eq(addr_parse("192.0.2.1", 53, &a, &why), 0);
	ck_assert_int_eq(addr_parse("192.0.2.1:53", 5353, &b, &why), 0);
	ck_assert_int_eq(addr_equal((struct sockaddr *)&a.ss,
	    (struct sockaddr *)&b.ss), 1);
	ck_assert_int_eq(addr_parse("192.0.2.2", 53, &b, &why), 0);
	ck_assert_int_eq(addr_equal((struct sockaddr *)&a.ss,
	    (struct sockaddr *)&b.ss), 0);

	memset(&unk, 0, sizeof(unk));
	unk.sa_family = AF_UNIX;
	ck_assert_uint_eq(addr_port(&unk), 0);
	ck_assert_uint_eq(addr_sockaddr_len(&unk), 0);
	ck_assert_int_eq(addr_equal(&unk, &unk), 0);
	addr_ip_str(&unk, buf, sizeof(buf));
	ck_assert_str_eq(buf, "?");
}
END_TEST

/* The longest text fits ADDR_STRLEN exactly. */
START_TEST(test_addr_str_longest)
{
	struct addr	 a;
	const char	*why;
	char		 buf[ADDR_STRLEN];
	const char	*longest =
	    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";

	ck_assert_int_eq(addr_parse(longest, 53, &a, &why), 0);
	addr_str(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	ck_assert_uint_lt(strlen(longest), ADDR_STRLEN);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc;

	tc = tcase_create("acl");
	tcase_add_test(tc, test_net_parse);
	tcase_add_test(tc, test_net_parse_bad);
	tcase_add_test(tc, test_match_v4);
	tcase_add_test(tc, test_match_v6);
	tcase_add_test(tc, test_match_all);
	tcase_add_test(tc, test_match_v4_mapped);
	tcase_add_test(tc, test_match_empty_null);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_test(tc, test_addr_parse);
	tcase_add_test(tc, test_addr_parse_bad);
	tcase_add_test(tc, test_addr_helpers);
	tcase_add_test(tc, test_addr_str_longest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(acl_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
