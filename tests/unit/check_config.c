/*
 * check_config.c -- unit tests for config.c: defaults, a full valid file,
 * and the exact file:line:col message of each kind of mistake.
 *
 * Every test writes its YAML (and its own resolv.conf, so that the host's
 * /etc/resolv.conf never matters) to mkstemp files under /tmp and removes
 * them right after config_load(), before any assertion can end the test.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "addr.h"
#include "config.h"
#include "zone.h"

#define MAXMSG	64

/* A resolv.conf for tests that do not care about "system". */
#define RC_PLAIN	"nameserver 192.0.2.53\n"

struct run {
	char		 conf[64];	/* path of the YAML file */
	char		 rc[64];	/* path of the resolv.conf */
	struct config	 cfg;
	int		 nerr;
	int		 nmsg;
	char		*msg[MAXMSG];
};

static void
collect(void *arg, const char *msg)
{
	struct run	*r = arg;

	if (r->nmsg < MAXMSG)
		r->msg[r->nmsg++] = strdup(msg);
}

static void
tmp_write(char *path, size_t sz, const char *content)
{
	int	 fd;
	size_t	 len = strlen(content);

	snprintf(path, sz, "/tmp/dnsward-check-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
}

/* Load yaml with resolv.conf content rc; the files are gone on return. */
static void
run_load(struct run *r, const char *yaml, const char *rc)
{
	memset(r, 0, sizeof(*r));
	tmp_write(r->conf, sizeof(r->conf), yaml);
	tmp_write(r->rc, sizeof(r->rc), rc);
	r->nerr = config_load(&r->cfg, r->conf, r->rc, collect, r);
	unlink(r->conf);
	unlink(r->rc);
}

static void
run_done(struct run *r)
{
	int	 i;

	for (i = 0; i < r->nmsg; i++)
		free(r->msg[i]);
	config_release(&r->cfg);
}

/* Message i is conf path + suffix (suffix starts with ":line:col: "). */
static void
expect_msg(const struct run *r, int i, const char *suffix)
{
	char	 want[1024];

	ck_assert_int_lt(i, r->nmsg);
	snprintf(want, sizeof(want), "%s%s", r->conf, suffix);
	ck_assert_str_eq(r->msg[i], want);
}

/* Exactly one error, with this message. */
static void
expect_one(const char *yaml, const char *rc, const char *suffix)
{
	struct run	 r;

	run_load(&r, yaml, rc);
	ck_assert_int_eq(r.nerr, 1);
	ck_assert_int_eq(r.nmsg, 1);
	expect_msg(&r, 0, suffix);
	run_done(&r);
}

static void
expect_addr(const struct config_addr *ca, const char *text, const char *str)
{
	char	 buf[ADDR_STRLEN];

	ck_assert_str_eq(ca->text, text);
	addr_str(&ca->addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, str);
}

static int
match(const struct acl *acl, const char *ip)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return acl_match(acl, (struct sockaddr *)&ss);
}

/*
 * Defaults and valid files
 */

START_TEST(test_defaults)
{
	struct config	 cfg;

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_ptr_null(cfg.path);
	ck_assert_uint_eq(cfg.nlisten, 2);
	expect_addr(&cfg.listen[0], "127.0.0.1:53", "127.0.0.1:53");
	expect_addr(&cfg.listen[1], "[::1]:53", "[::1]:53");
	ck_assert_uint_eq(cfg.threads, 0);
	ck_assert_uint_eq(acl_count(cfg.allow_clients), 6);
	ck_assert_int_eq(match(cfg.allow_clients, "127.0.0.1"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "::1"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "10.9.8.7"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "172.31.255.255"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "172.32.0.0"), 0);
	ck_assert_int_eq(match(cfg.allow_clients, "192.168.1.1"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "fd00::1"), 1);
	ck_assert_int_eq(match(cfg.allow_clients, "8.8.8.8"), 0);
	ck_assert_int_eq(match(cfg.allow_clients, "2001:db8::1"), 0);
	ck_assert_uint_eq(cfg.tcp_max_connections, 1000);
	ck_assert_uint_eq(cfg.tcp_idle_timeout_ms, 10000);
	ck_assert_uint_eq(cfg.edns_buffer_size, 1232);
	ck_assert_int_eq(cfg.mode, RESOLVER_FORWARD);
	ck_assert_uint_eq(cfg.nupstreams, 0);	/* "system": config_load */
	ck_assert_uint_eq(cfg.timeout_ms, 1500);
	ck_assert_ptr_null(cfg.zones);
	ck_assert_uint_eq(cfg.nzones, 0);
	ck_assert_ptr_null(cfg.log_file);
	ck_assert_int_eq(cfg.log_stdout, 1);
	ck_assert_int_eq(cfg.log_syslog, 0);
	config_release(&cfg);
	config_release(&cfg);	/* safe twice: fields are reset */
}
END_TEST

START_TEST(test_release_zeroed)
{
	struct config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	config_release(&cfg);
}
END_TEST

/* An empty file is all defaults, upstreams from resolv.conf. */
START_TEST(test_empty_file)
{
	struct run	 r;

	run_load(&r, "", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_int_eq(r.nmsg, 0);
	ck_assert_str_eq(r.cfg.path, r.conf);
	ck_assert_uint_eq(r.cfg.nlisten, 2);
	ck_assert_uint_eq(r.cfg.nupstreams, 1);
	expect_addr(&r.cfg.upstreams[0], "192.0.2.53", "192.0.2.53:53");
	ck_assert_uint_eq(acl_count(r.cfg.allow_clients), 6);
	ck_assert_int_eq(r.cfg.log_stdout, 1);
	run_done(&r);

	/* Only comments, or only "---", is just as empty. */
	run_load(&r, "# nothing here\n---\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nupstreams, 1);
	run_done(&r);
}
END_TEST

static const char full_yaml[] =
"# every key\n"
"server:\n"
"  listen: [\"192.0.2.1\", \"192.0.2.1:5353\", \"[2001:db8::1]:5300\", "
"\"::1\"]\n"
"  threads: 4\n"
"  allow-clients:\n"
"    - 10.0.0.0/8\n"
"    - ::1/128\n"
"    - \"2001:db8::/32\"\n"
"    - 192.0.2.7\n"
"  tcp: { max-connections: 500, idle-timeout: 30s }\n"
"  edns-buffer-size: 1400\n"
"resolver:\n"
"  mode: forward\n"
"  upstreams: [\"198.51.100.1\", \"[2001:db8::53]:5353\", system]\n"
"  timeout: 2s\n"
"log:\n"
"  decisions:\n"
"    file: /var/log/dnsward/decisions.jsonl\n"
"    stdout: yes\n"
"    syslog: on\n";

START_TEST(test_full)
{
	struct run	 r;

	run_load(&r, full_yaml, "nameserver 203.0.113.9\n");
	ck_assert_int_eq(r.nmsg, 0);
	ck_assert_int_eq(r.nerr, 0);

	ck_assert_uint_eq(r.cfg.nlisten, 4);
	expect_addr(&r.cfg.listen[0], "192.0.2.1", "192.0.2.1:53");
	expect_addr(&r.cfg.listen[1], "192.0.2.1:5353", "192.0.2.1:5353");
	expect_addr(&r.cfg.listen[2], "[2001:db8::1]:5300",
	    "[2001:db8::1]:5300");
	expect_addr(&r.cfg.listen[3], "::1", "[::1]:53");
	ck_assert_uint_eq(r.cfg.threads, 4);

	ck_assert_uint_eq(acl_count(r.cfg.allow_clients), 4);
	ck_assert_int_eq(match(r.cfg.allow_clients, "10.1.2.3"), 1);
	ck_assert_int_eq(match(r.cfg.allow_clients, "::1"), 1);
	ck_assert_int_eq(match(r.cfg.allow_clients, "2001:db8:ffff::1"), 1);
	ck_assert_int_eq(match(r.cfg.allow_clients, "192.0.2.7"), 1);
	ck_assert_int_eq(match(r.cfg.allow_clients, "192.0.2.8"), 0);
	ck_assert_int_eq(match(r.cfg.allow_clients, "192.168.0.1"), 0);

	ck_assert_uint_eq(r.cfg.tcp_max_connections, 500);
	ck_assert_uint_eq(r.cfg.tcp_idle_timeout_ms, 30000);
	ck_assert_uint_eq(r.cfg.edns_buffer_size, 1400);

	ck_assert_int_eq(r.cfg.mode, RESOLVER_FORWARD);
	ck_assert_uint_eq(r.cfg.nupstreams, 3);
	expect_addr(&r.cfg.upstreams[0], "198.51.100.1", "198.51.100.1:53");
	expect_addr(&r.cfg.upstreams[1], "[2001:db8::53]:5353",
	    "[2001:db8::53]:5353");
	expect_addr(&r.cfg.upstreams[2], "203.0.113.9", "203.0.113.9:53");
	ck_assert_uint_eq(r.cfg.timeout_ms, 2000);

	ck_assert_str_eq(r.cfg.log_file, "/var/log/dnsward/decisions.jsonl");
	ck_assert_int_eq(r.cfg.log_stdout, 1);
	ck_assert_int_eq(r.cfg.log_syslog, 1);
	run_done(&r);
}
END_TEST

START_TEST(test_threads_auto)
{
	struct run	 r;

	run_load(&r, "server:\n  threads: auto\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.threads, 0);
	run_done(&r);

	run_load(&r, "server:\n  threads: 256\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.threads, 256);
	run_done(&r);
}
END_TEST

/* A decisions map turns on only the sinks it names. */
START_TEST(test_decisions_sinks)
{
	struct run	 r;

	run_load(&r, "log:\n  decisions: { file: /tmp/x.jsonl }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_str_eq(r.cfg.log_file, "/tmp/x.jsonl");
	ck_assert_int_eq(r.cfg.log_stdout, 0);
	ck_assert_int_eq(r.cfg.log_syslog, 0);
	run_done(&r);

	run_load(&r, "log:\n  decisions: { syslog: true, stdout: false }\n",
	    RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_null(r.cfg.log_file);
	ck_assert_int_eq(r.cfg.log_stdout, 0);
	ck_assert_int_eq(r.cfg.log_syslog, 1);
	run_done(&r);

	run_load(&r, "log:\n  decisions: off\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_null(r.cfg.log_file);
	ck_assert_int_eq(r.cfg.log_stdout, 0);
	ck_assert_int_eq(r.cfg.log_syslog, 0);
	run_done(&r);
}
END_TEST

/* [] refuses everyone; 0.0.0.0/0 and ::/0 open it deliberately. */
START_TEST(test_allow_clients)
{
	struct run	 r;

	run_load(&r, "server:\n  allow-clients: []\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_nonnull(r.cfg.allow_clients);
	ck_assert_uint_eq(acl_count(r.cfg.allow_clients), 0);
	ck_assert_int_eq(match(r.cfg.allow_clients, "127.0.0.1"), 0);
	run_done(&r);

	run_load(&r, "server:\n  allow-clients: [0.0.0.0/0, \"::/0\"]\n",
	    RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(acl_count(r.cfg.allow_clients), 2);
	ck_assert_int_eq(match(r.cfg.allow_clients, "8.8.8.8"), 1);
	ck_assert_int_eq(match(r.cfg.allow_clients, "2001:db8::1"), 1);
	run_done(&r);
}
END_TEST

/* Comments, IPv4, IPv6, a scoped address (skipped) and junk lines. */
START_TEST(test_system_expand)
{
	static const char rc[] =
	    "# generated by NetworkManager\n"
	    "; another comment\n"
	    "search example.net\n"
	    "nameserver 192.0.2.1\n"
	    "   nameserver\t2001:db8::53   # trailing comment\n"
	    "nameserver fe80::1%eth0\n"
	    "nameserver not-an-address\n"
	    "#nameserver 192.0.2.99\n"
	    "nameserver 198.51.100.2;x\n"
	    "options edns0\n";
	struct run	 r;

	run_load(&r, "resolver:\n  upstreams: [system]\n", rc);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nupstreams, 3);
	expect_addr(&r.cfg.upstreams[0], "192.0.2.1", "192.0.2.1:53");
	expect_addr(&r.cfg.upstreams[1], "2001:db8::53", "[2001:db8::53]:53");
	expect_addr(&r.cfg.upstreams[2], "198.51.100.2", "198.51.100.2:53");
	run_done(&r);
}
END_TEST

START_TEST(test_duration_parse)
{
	unsigned	 ms;
	const char	*why;

	ck_assert_int_eq(config_parse_duration_ms("1500ms", &ms, &why), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(config_parse_duration_ms("250", &ms, &why), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(config_parse_duration_ms("2s", &ms, &why), 0);
	ck_assert_uint_eq(ms, 2000);
	ck_assert_int_eq(config_parse_duration_ms("5m", &ms, &why), 0);
	ck_assert_uint_eq(ms, 300000);
	ck_assert_int_eq(config_parse_duration_ms("1h", &ms, &why), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(config_parse_duration_ms("1d", &ms, &why), 0);
	ck_assert_uint_eq(ms, 86400000);
	ck_assert_int_eq(config_parse_duration_ms("0", &ms, &why), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(config_parse_duration_ms("4294967295", &ms, &why), 0);
	ck_assert_uint_eq(ms, 4294967295u);
	ck_assert_int_eq(config_parse_duration_ms("49d", &ms, &why), 0);
	ck_assert_uint_eq(ms, 49u * 86400000u);

	ck_assert_int_eq(config_parse_duration_ms("4294967296", &ms, &why),
	    -1);
	ck_assert_str_eq(why, "too large");
	ck_assert_int_eq(config_parse_duration_ms("50d", &ms, &why), -1);
	ck_assert_str_eq(why, "too large");
	ck_assert_int_eq(config_parse_duration_ms(
	    "99999999999999999999999s", &ms, &why), -1);
	ck_assert_str_eq(why, "too large");
	ck_assert_int_eq(config_parse_duration_ms("", &ms, &why), -1);
	ck_assert_str_eq(why, "empty duration");
	ck_assert_int_eq(config_parse_duration_ms(NULL, &ms, &why), -1);
	ck_assert_int_eq(config_parse_duration_ms("-5s", &ms, &why), -1);
	ck_assert_str_eq(why, "expected a number with unit ms, s, m, h or d");
	ck_assert_int_eq(config_parse_duration_ms("s", &ms, &why), -1);
	ck_assert_int_eq(config_parse_duration_ms("1.5s", &ms, &why), -1);
	ck_assert_str_eq(why, "unknown unit (ms, s, m, h or d)");
	ck_assert_int_eq(config_parse_duration_ms("5 s", &ms, &why), -1);
	ck_assert_int_eq(config_parse_duration_ms("5sec", &ms, &why), -1);
	ck_assert_int_eq(config_parse_duration_ms("5S", &ms, &why), -1);
	ck_assert_int_eq(config_parse_duration_ms("10ms ", &ms, &why), -1);
}
END_TEST

/*
 * Errors: the exact text, line and column of each kind
 */

START_TEST(test_err_unknown_key)
{
	expect_one("server:\n  lisen: [\"127.0.0.1\"]\n", RC_PLAIN,
	    ":2:3: unknown key 'lisen' in 'server'");
	expect_one("caches: {}\n", RC_PLAIN, ":1:1: unknown key 'caches'");
	expect_one("server:\n  tcp:\n    max-conn: 5\n", RC_PLAIN,
	    ":3:5: unknown key 'max-conn' in 'server.tcp'");
	expect_one("log:\n  decisions: { fil: x }\n", RC_PLAIN,
	    ":2:16: unknown key 'fil' in 'log.decisions'");
}
END_TEST

START_TEST(test_err_wrong_type)
{
	expect_one("- server\n", RC_PLAIN, ":1:1: expected a mapping");
	expect_one("server: [1]\n", RC_PLAIN,
	    ":1:9: 'server' must be a mapping");
	expect_one("server:\n  listen: \"127.0.0.1\"\n", RC_PLAIN,
	    ":2:11: 'server.listen' must be a list");
	expect_one("server:\n  tcp: 5\n", RC_PLAIN,
	    ":2:8: 'server.tcp' must be a mapping");
	expect_one("server:\n  threads: [1]\n", RC_PLAIN,
	    ":2:12: server.threads: expected a string, got a list");
	expect_one("server:\n  listen:\n    - { a: 1 }\n", RC_PLAIN,
	    ":3:7: server.listen: expected a string, got a mapping");
	expect_one("resolver:\n  upstreams: system\n", RC_PLAIN,
	    ":2:14: 'resolver.upstreams' must be a list");
	expect_one("log:\n  decisions: on\n", RC_PLAIN,
	    ":2:14: 'log.decisions' must be a mapping or 'off'");
	expect_one("server:\n  [a]: 1\n", RC_PLAIN,
	    ":2:3: expected a string key, got a list");
	expect_one("server:\n  threads: many\n", RC_PLAIN,
	    ":2:12: server.threads: 'many' is not an integer");
	expect_one("resolver:\n  mode: iterate\n", RC_PLAIN,
	    ":2:9: resolver.mode: expected 'forward' or 'recurse', "
	    "got 'iterate'");
	expect_one("server:\n  allow-clients: [127.0.0.1/32, ::1/128]\n",
	    RC_PLAIN, ":2:33: did not find expected node content (in [ ] "
	    "lists, quote values that start with ':', e.g. \"::1/128\")");
}
END_TEST

START_TEST(test_err_bad_address)
{
	expect_one("server:\n  listen:\n    - 127.0.0.1\n    - foo:bar\n",
	    RC_PLAIN,
	    ":4:7: server.listen: bad address 'foo:bar': not an IP address");
	expect_one("server:\n  listen: [\"127.0.0.1:0\"]\n", RC_PLAIN,
	    ":2:12: server.listen: bad address '127.0.0.1:0': "
	    "port out of range (1..65535)");
	expect_one("server:\n  listen: [\"[::1]:53x\"]\n", RC_PLAIN,
	    ":2:12: server.listen: bad address '[::1]:53x': bad port");
	expect_one("resolver:\n  upstreams:\n    - 192.0.2.1\n"
	    "    - 192.0.2.300\n", RC_PLAIN,
	    ":4:7: resolver.upstreams: bad address '192.0.2.300': "
	    "not an IP address");
	expect_one("server:\n  allow-clients: [10.0.0.1/8]\n", RC_PLAIN,
	    ":2:19: server.allow-clients: bad network '10.0.0.1/8': "
	    "host bits set");
	expect_one("server:\n  allow-clients: [10.0.0.0/33]\n", RC_PLAIN,
	    ":2:19: server.allow-clients: bad network '10.0.0.0/33': "
	    "prefix too long");
}
END_TEST

START_TEST(test_err_duplicate_listen)
{
	expect_one("server:\n  listen: [\"127.0.0.1\", \"127.0.0.1:53\"]\n",
	    RC_PLAIN,
	    ":2:25: server.listen: duplicate address '127.0.0.1:53'");
	expect_one("server:\n  listen: []\n", RC_PLAIN,
	    ":2:11: server.listen: at least one address is required");
}
END_TEST

START_TEST(test_err_out_of_range)
{
	expect_one("server:\n  edns-buffer-size: 99\n", RC_PLAIN,
	    ":2:21: server.edns-buffer-size: 99 is out of range (512..4096)");
	expect_one("server:\n  edns-buffer-size: 4097\n", RC_PLAIN,
	    ":2:21: server.edns-buffer-size: 4097 is out of range "
	    "(512..4096)");
	expect_one("server:\n  threads: 0\n", RC_PLAIN,
	    ":2:12: server.threads: 0 is out of range (1..256)");
	expect_one("server:\n  threads: -1\n", RC_PLAIN,
	    ":2:12: server.threads: -1 is out of range (1..256)");
	expect_one("server:\n  tcp: { max-connections: 99999999999999999999 }\n",
	    RC_PLAIN, ":2:27: server.tcp.max-connections: "
	    "99999999999999999999 is out of range (1..1000000)");
	expect_one("server:\n  tcp: { idle-timeout: 99ms }\n", RC_PLAIN,
	    ":2:24: server.tcp.idle-timeout: 99ms is out of range "
	    "(100ms..1h)");
	expect_one("resolver:\n  timeout: 61s\n", RC_PLAIN,
	    ":2:12: resolver.timeout: 61s is out of range (10ms..60s)");
}
END_TEST

START_TEST(test_err_bad_duration)
{
	expect_one("resolver:\n  timeout: 1.5s\n", RC_PLAIN,
	    ":2:12: resolver.timeout: bad duration '1.5s': "
	    "unknown unit (ms, s, m, h or d)");
	expect_one("resolver:\n  timeout: -5s\n", RC_PLAIN,
	    ":2:12: resolver.timeout: bad duration '-5s': "
	    "expected a number with unit ms, s, m, h or d");
	expect_one("resolver:\n  timeout: \"\"\n", RC_PLAIN,
	    ":2:12: resolver.timeout: bad duration '': empty duration");
	expect_one("resolver:\n  timeout: 5000000000\n", RC_PLAIN,
	    ":2:12: resolver.timeout: bad duration '5000000000': too large");
}
END_TEST

START_TEST(test_err_bad_bool)
{
	expect_one("log:\n  decisions:\n    stdout: maybe\n", RC_PLAIN,
	    ":3:13: log.decisions.stdout: expected true or false, "
	    "got 'maybe'");
	expect_one("log:\n  decisions:\n    syslog: 1\n", RC_PLAIN,
	    ":3:13: log.decisions.syslog: expected true or false, got '1'");
}
END_TEST

START_TEST(test_err_duplicate_key)
{
	expect_one("server:\n  listen: [\"127.0.0.1\"]\n"
	    "  listen: [\"127.0.0.2\"]\n", RC_PLAIN,
	    ":3:3: duplicate key 'listen' in 'server'");
	expect_one("server: {}\nserver: {}\n", RC_PLAIN,
	    ":2:1: duplicate key 'server'");
}
END_TEST

START_TEST(test_err_yaml_syntax)
{
	expect_one("server:\n  listen: [\"127.0.0.1\"\n", RC_PLAIN,
	    ":3:1: did not find expected ',' or ']'");
	expect_one("server:\n  threads: 2\n threads: 3\n", RC_PLAIN,
	    ":3:2: did not find expected key");
	expect_one("server: threads: 2\n", RC_PLAIN,
	    ":1:16: mapping values are not allowed in this context");
	expect_one("server:\n  threads: *nope\n", RC_PLAIN,
	    ":2:12: found undefined alias");
	/* Bad UTF-8 is found by the reader, which only knows the offset. */
	expect_one("server:\n  threads: \xc3\x28\n", RC_PLAIN,
	    ": invalid trailing UTF-8 octet at byte 20");
	expect_one("server: {}\n---\nlog: {}\n", RC_PLAIN,
	    ":3:1: only one YAML document is allowed");
}
END_TEST

START_TEST(test_err_upstreams)
{
	expect_one("resolver:\n  upstreams: []\n", RC_PLAIN,
	    ":2:14: resolver.upstreams: at least one upstream is required");
}
END_TEST

START_TEST(test_err_system_empty)
{
	struct run	 r;

	run_load(&r, "resolver:\n  upstreams:\n    - 192.0.2.1\n"
	    "    - system\n",
	    "# no nameserver here\nsearch example.net\n"
	    "nameserver fe80::1%eth0\n");
	ck_assert_int_eq(r.nerr, 1);
	ck_assert_int_eq(r.nmsg, 1);
	{
		char	 want[256];

		snprintf(want, sizeof(want), "%s:4:7: resolver.upstreams: "
		    "'system': no usable nameserver in %s", r.conf, r.rc);
		ck_assert_str_eq(r.msg[0], want);
	}
	run_done(&r);

	/* The implicit default "system" has no line to point at. */
	run_load(&r, "server: {}\n", "");
	ck_assert_int_eq(r.nerr, 1);
	{
		char	 want[256];

		snprintf(want, sizeof(want), "%s: resolver.upstreams "
		    "(default): 'system': no usable nameserver in %s",
		    r.conf, r.rc);
		ck_assert_str_eq(r.msg[0], want);
	}
	run_done(&r);
}
END_TEST

START_TEST(test_err_limits)
{
	char		 yaml[4096];
	size_t		 off;
	int		 i;
	struct run	 r;

	off = snprintf(yaml, sizeof(yaml), "server:\n  listen:\n");
	for (i = 0; i < CONFIG_MAX_LISTEN + 2; i++)
		off += snprintf(yaml + off, sizeof(yaml) - off,
		    "    - 127.0.1.%d\n", i + 1);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":35:7: server.listen: more than 32 addresses");
	run_done(&r);

	off = snprintf(yaml, sizeof(yaml), "resolver:\n  upstreams:\n");
	for (i = 0; i < CONFIG_MAX_UPSTREAMS + 2; i++)
		off += snprintf(yaml + off, sizeof(yaml) - off,
		    "    - 192.0.2.%d\n", i + 1);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":19:7: resolver.upstreams: more than 16 upstreams");
	run_done(&r);
}
END_TEST

START_TEST(test_err_forwarding_loop)
{
	expect_one("resolver:\n  upstreams: [system]\n", "nameserver 127.0.0.1\n",
	    ":2:15: resolver.upstreams: 127.0.0.1:53 is also in server.listen "
	    "(a forwarding loop)");
	expect_one("server: { listen: [\"[::1]:5353\"] }\n"
	    "resolver: { upstreams: [\"[::1]:5353\"] }\n", RC_PLAIN,
	    ":2:25: resolver.upstreams: [::1]:5353 is also in server.listen "
	    "(a forwarding loop)");
}
END_TEST

START_TEST(test_err_cannot_open)
{
	struct config	 cfg;
	struct run	 r;
	char		 want[128];

	memset(&r, 0, sizeof(r));
	snprintf(r.conf, sizeof(r.conf), "/nonexistent/dnsward.yaml");
	r.nerr = config_load(&cfg, r.conf, NULL, collect, &r);
	ck_assert_int_eq(r.nerr, 1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", r.conf,
	    strerror(ENOENT));
	ck_assert_str_eq(r.msg[0], want);
	ck_assert_ptr_null(cfg.path);		/* released on failure */
	ck_assert_ptr_null(cfg.allow_clients);
	run_done(&r);
}
END_TEST

/* Operations keys: server.user, control, metrics, feed refresh and guard. */
START_TEST(test_ops_defaults)
{
	struct run	 r;

	run_load(&r, "feeds:\n  - { id: a, path: b }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_str_eq(r.cfg.user, "dnsward");
	ck_assert_int_eq(r.cfg.user_set, 0);
	ck_assert_str_eq(r.cfg.control_socket, "/run/dnsward/control.sock");
	ck_assert_int_eq(r.cfg.has_metrics, 0);
	ck_assert_uint_eq(r.cfg.feeds[0].refresh_ms, 0);
	ck_assert_uint_eq(r.cfg.feeds[0].max_shrink, 50);
	run_done(&r);
}
END_TEST

START_TEST(test_ops_values)
{
	struct run	 r;

	run_load(&r, "server:\n  user: nobody\n"
	    "feeds:\n  - { id: a, path: b, refresh: 5m, max-shrink: 10% }\n"
	    "  - { id: c, path: d, refresh: off, max-shrink: off }\n"
	    "control: { socket: /tmp/x.sock }\n"
	    "metrics: { listen: \"127.0.0.1\" }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_str_eq(r.cfg.user, "nobody");
	ck_assert_int_eq(r.cfg.user_set, 1);
	ck_assert_int_eq(r.cfg.user_line, 2);
	ck_assert_int_eq(r.cfg.user_col, 9);
	ck_assert_uint_eq(r.cfg.feeds[0].refresh_ms, 300000);
	ck_assert_uint_eq(r.cfg.feeds[0].max_shrink, 10);
	ck_assert_uint_eq(r.cfg.feeds[1].refresh_ms, 0);
	ck_assert_uint_eq(r.cfg.feeds[1].max_shrink, 100);
	ck_assert_str_eq(r.cfg.control_socket, "/tmp/x.sock");
	ck_assert_int_eq(r.cfg.has_metrics, 1);
	ck_assert_str_eq(r.cfg.metrics_listen.text, "127.0.0.1");
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)
	    &r.cfg.metrics_listen.addr.ss)->sin_port), 9153);
	run_done(&r);

	run_load(&r, "control: off\nmetrics: off\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_null(r.cfg.control_socket);
	ck_assert_int_eq(r.cfg.has_metrics, 0);
	run_done(&r);
	run_load(&r, "control: { socket: off }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_null(r.cfg.control_socket);
	run_done(&r);
}
END_TEST

START_TEST(test_recurse_keys)
{
	struct run	 r;

	run_load(&r, "resolver: { mode: recurse }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_int_eq(r.cfg.mode, RESOLVER_RECURSE);
	ck_assert_int_eq(r.cfg.dnssec, 1);
	ck_assert_int_eq(r.cfg.qname_min, 1);
	ck_assert_int_eq(r.cfg.query_loopback, 0);
	ck_assert_str_eq(r.cfg.root_hints, "/usr/share/dns/root.hints");
	ck_assert_uint_eq(r.cfg.ntrust_anchors, 1);
	ck_assert_str_eq(r.cfg.trust_anchors[0].text, "/usr/share/dns/root.key");
	ck_assert_int_eq(r.cfg.trust_anchors[0].is_file, 1);
	run_done(&r);

	run_load(&r, "resolver:\n  mode: recurse\n  dnssec: off\n"
	    "  root-hints: /x/hints\n  qname-minimisation: false\n"
	    "  query-loopback: on\n"
	    "  trust-anchors: [/a.key, \". IN DS 20326 8 2 E06D\"]\n",
	    RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_int_eq(r.cfg.dnssec, 0);
	ck_assert_int_eq(r.cfg.qname_min, 0);
	ck_assert_int_eq(r.cfg.query_loopback, 1);
	ck_assert_str_eq(r.cfg.root_hints, "/x/hints");
	ck_assert_int_eq(r.cfg.root_hints_line, 4);
	ck_assert_uint_eq(r.cfg.ntrust_anchors, 2);
	ck_assert_int_eq(r.cfg.trust_anchors[0].is_file, 1);
	ck_assert_int_eq(r.cfg.trust_anchors[1].is_file, 0);
	run_done(&r);

	expect_one("resolver: { dnssec: maybe }\n", RC_PLAIN,
	    ":1:21: resolver.dnssec: expected validate or off, got 'maybe'");
	expect_one("resolver: { trust-anchors: [foo] }\n", RC_PLAIN,
	    ":1:29: resolver.trust-anchors: 'foo' is neither an absolute "
	    "file path nor a DS or DNSKEY record");
}
END_TEST

START_TEST(test_ops_errors)
{
	expect_one("server:\n  user: \"a:b\"\n", RC_PLAIN,
	    ":2:9: server.user: bad user name 'a:b'");
	expect_one("feeds:\n  - { id: a, path: b, refresh: 10ms }\n", RC_PLAIN,
	    ":2:32: feeds[0].refresh: 10ms is out of range (1s..7d, or off)");
	expect_one("feeds:\n  - { id: a, path: b, max-shrink: 150% }\n",
	    RC_PLAIN, ":2:35: feeds[0].max-shrink: '150%' is not a share: "
	    "expected 0%..100% (or off)");
	expect_one("feeds:\n  - { id: a, path: b, max-shrink: 50 }\n",
	    RC_PLAIN, ":2:35: feeds[0].max-shrink: '50' is not a share: "
	    "expected 0%..100% (or off)");
	expect_one("control: { socket: run/x.sock }\n", RC_PLAIN,
	    ":1:20: control.socket: 'run/x.sock' is not an absolute path");
	expect_one("control: { sock: /x }\n", RC_PLAIN,
	    ":1:12: unknown key 'sock' in 'control'");
	{
		char	 big[300 * 24 + 16];
		size_t	 n = 0;
		int	 i;

		n += snprintf(big + n, sizeof(big) - n, "feeds:\n");
		for (i = 0; i < 257; i++)
			n += snprintf(big + n, sizeof(big) - n,
			    "  - { id: f%d, path: p }\n", i);
		expect_one(big, RC_PLAIN, ":2:3: feeds: more than 256 feeds");
	}
	expect_one("metrics: { listen: \"localhost:9153\" }\n", RC_PLAIN,
	    ":1:20: metrics.listen: bad address 'localhost:9153': "
	    "not an IP address");
}
END_TEST

/* One run reports every mistake, in file order. */
START_TEST(test_err_many)
{
	static const char yaml[] =
	    "server:\n"
	    "  lisen: 1\n"
	    "  listen: [foo, \"127.0.0.1\", \"127.0.0.1:53\"]\n"
	    "  threads: 999\n"
	    "  tcp: { idle-timeout: forever }\n"
	    "resolver:\n"
	    "  upstreams: []\n"
	    "  timeout: 1x\n"
	    "log:\n"
	    "  decisions: { stdout: nah, syslog: true }\n"
	    "dnstap: {}\n";
	struct run	 r;

	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 9);
	ck_assert_int_eq(r.nmsg, 9);
	expect_msg(&r, 0, ":2:3: unknown key 'lisen' in 'server'");
	expect_msg(&r, 1, ":3:12: server.listen: bad address 'foo': "
	    "not an IP address");
	expect_msg(&r, 2, ":3:30: server.listen: duplicate address "
	    "'127.0.0.1:53'");
	expect_msg(&r, 3, ":4:12: server.threads: 999 is out of range "
	    "(1..256)");
	expect_msg(&r, 4, ":5:24: server.tcp.idle-timeout: bad duration "
	    "'forever': expected a number with unit ms, s, m, h or d");
	expect_msg(&r, 5, ":7:14: resolver.upstreams: at least one upstream "
	    "is required");
	expect_msg(&r, 6, ":8:12: resolver.timeout: bad duration '1x': "
	    "unknown unit (ms, s, m, h or d)");
	expect_msg(&r, 7, ":10:24: log.decisions.stdout: expected true or "
	    "false, got 'nah'");
	expect_msg(&r, 8, ":11:1: unknown key 'dnstap'");
	ck_assert_ptr_null(r.cfg.path);
	run_done(&r);
}
END_TEST

/*
 * feeds: and policy:
 */

static const char policy_yaml[] =
"policy:\n"						/* 1 */
"  default: block\n"
"  redirection: trust\n"
"  block-ttl: 5m\n"
"  groups:\n"						/* 5 */
"    - name: baseline\n"
"      priority: 100\n"
"      clients: [10.1.0.0/16, \"2001:db8::/32\"]\n"
"      rules:\n"
"        - { name: allow-corp, priority: 10, match: { feed: corp-allow },"
" action: allow }\n"					/* 10 */
"        - name: malware\n"
"          priority: 20\n"
"          match: { feed: [malware, corp-allow], qtype: [a, AAAA, TYPE65] }\n"
"          action: block\n"
"          response: nxdomain\n"			/* 15 */
"          redirection: inspect\n"
"        - { name: risky-tlds, priority: 30, match: { tld: [.ZIP, mov,"
" xn--p1ai] }, action: block, response: nodata }\n"
"        - name: sinkhole\n"
"          priority: 40\n"
"          match: { feed: malware, tld: com }\n"	/* 20 */
"          action: block\n"
"          response: { override: { a: [192.0.2.1, 192.0.2.2],"
" aaaa: \"2001:db8::1\", ttl: 30 } }\n"
"        - name: cname-sink\n"
"          priority: 50\n"
"          match: { qtype: txt }\n"			/* 25 */
"          action: block\n"
"          response:\n"
"            override: { cname: Sinkhole.Corp.Internal. }\n"
"          redirection: trust\n"
"        - { name: refuse, priority: 60, match: { tld: test }, action: block,"
" response: refused }\n"				/* 30 */
"        - { name: drop, priority: 70, match: { tld: invalid },"
" action: block, response: drop }\n"
"        - { name: txt-watch, priority: 80, match: { qtype: [TXT, \"NULL\"] },"
" action: alert }\n"
"        - { name: auto, priority: 90, match: { feed: malware },"
" action: block }\n"
"    - name: guests\n"
"      priority: 50\n"					/* 35 */
"      rules:\n"
"        - { name: everything, priority: 0, match: { feed: guests-block },"
" action: block, response: nxdomain }\n"
"feeds:\n"
"  - { id: malware, path: /var/lib/dnsward/feeds/malware.rpz, format: rpz }\n"
"  - id: corp-allow\n"					/* 40 */
"    path: allow.txt\n"
"    match: exact\n"
"  - { id: guests-block, path: g.txt, format: adblock,"
" match: subdomains }\n";

START_TEST(test_policy_defaults)
{
	struct run	 r;

	run_load(&r, "", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_ptr_null(r.cfg.feeds);
	ck_assert_uint_eq(r.cfg.nfeeds, 0);
	ck_assert_int_eq(r.cfg.policy_default, RULE_ALLOW);
	ck_assert_int_eq(r.cfg.redirection, REDIR_INSPECT);
	ck_assert_uint_eq(r.cfg.block_ttl, 60);
	ck_assert_ptr_null(r.cfg.groups);
	ck_assert_uint_eq(r.cfg.ngroups, 0);
	run_done(&r);

	/* Empty sections are just as empty. */
	run_load(&r, "feeds: []\npolicy: { groups: [] }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nfeeds, 0);
	ck_assert_uint_eq(r.cfg.ngroups, 0);
	run_done(&r);
}
END_TEST

static void
expect_feed(const struct config_feed *f, const char *id, const char *path,
    enum feed_format format, enum feed_match m, int line, int col)
{
	ck_assert_str_eq(f->id, id);
	ck_assert_str_eq(f->path, path);
	ck_assert_int_eq(f->format, format);
	ck_assert_int_eq(f->match, m);
	ck_assert_int_eq(f->line, line);
	ck_assert_int_eq(f->col, col);
}

static void
expect_rule(const struct config_rule *cr, const char *name, int prio,
    enum rule_action action, enum block_response resp,
    enum redirection redir, int line, int col)
{
	ck_assert_str_eq(cr->name, name);
	ck_assert_int_eq(cr->priority, prio);
	ck_assert_int_eq(cr->action, action);
	ck_assert_int_eq(cr->response, resp);
	ck_assert_int_eq(cr->redirection, redir);
	ck_assert_int_eq(cr->line, line);
	ck_assert_int_eq(cr->col, col);
}

static void
expect_conds(const struct config_rule *cr, size_t nfeeds, size_t ntlds,
    size_t nqtypes)
{
	ck_assert_uint_eq(cr->nfeeds, nfeeds);
	ck_assert_uint_eq(cr->ntlds, ntlds);
	ck_assert_uint_eq(cr->nqtypes, nqtypes);
	if (nfeeds == 0)
		ck_assert_ptr_null(cr->feeds);
	if (ntlds == 0)
		ck_assert_ptr_null(cr->tlds);
	if (nqtypes == 0)
		ck_assert_ptr_null(cr->qtypes);
}

START_TEST(test_policy_full)
{
	static const uint8_t sink[] = "\x08sinkhole\x04" "corp\x08internal";
	struct run		 r;
	const struct config_group *g;
	const struct config_rule *cr;
	const struct config_override *o;
	uint8_t			 ip[16];

	run_load(&r, policy_yaml, RC_PLAIN);
	ck_assert_int_eq(r.nmsg, 0);
	ck_assert_int_eq(r.nerr, 0);

	ck_assert_uint_eq(r.cfg.nfeeds, 3);
	expect_feed(&r.cfg.feeds[0], "malware",
	    "/var/lib/dnsward/feeds/malware.rpz", FEED_RPZ,
	    FEED_MATCH_SUBDOMAINS, 39, 5);
	expect_feed(&r.cfg.feeds[1], "corp-allow", "allow.txt", FEED_AUTO,
	    FEED_MATCH_EXACT, 40, 5);
	expect_feed(&r.cfg.feeds[2], "guests-block", "g.txt", FEED_ADBLOCK,
	    FEED_MATCH_SUBDOMAINS, 43, 5);

	ck_assert_int_eq(r.cfg.policy_default, RULE_BLOCK);
	ck_assert_int_eq(r.cfg.redirection, REDIR_TRUST);
	ck_assert_uint_eq(r.cfg.block_ttl, 300);
	ck_assert_uint_eq(r.cfg.ngroups, 2);

	g = &r.cfg.groups[0];
	ck_assert_str_eq(g->name, "baseline");
	ck_assert_int_eq(g->priority, 100);
	ck_assert_int_eq(g->line, 6);
	ck_assert_int_eq(g->col, 7);
	ck_assert_ptr_nonnull(g->clients);
	ck_assert_uint_eq(acl_count(g->clients), 2);
	ck_assert_int_eq(match(g->clients, "10.1.2.3"), 1);
	ck_assert_int_eq(match(g->clients, "10.2.0.1"), 0);
	ck_assert_int_eq(match(g->clients, "2001:db8::5"), 1);
	ck_assert_uint_eq(g->nrules, 9);

	cr = &g->rules[0];
	expect_rule(cr, "allow-corp", 10, RULE_ALLOW, RESP_AUTO,
	    REDIR_DEFAULT, 10, 11);
	expect_conds(cr, 1, 0, 0);
	ck_assert_uint_eq(cr->feeds[0], 1);

	cr = &g->rules[1];
	expect_rule(cr, "malware", 20, RULE_BLOCK, RESP_NXDOMAIN,
	    REDIR_INSPECT, 11, 11);
	expect_conds(cr, 2, 0, 3);
	ck_assert_uint_eq(cr->feeds[0], 0);
	ck_assert_uint_eq(cr->feeds[1], 1);
	ck_assert_uint_eq(cr->qtypes[0], 1);
	ck_assert_uint_eq(cr->qtypes[1], 28);
	ck_assert_uint_eq(cr->qtypes[2], 65);

	cr = &g->rules[2];
	expect_rule(cr, "risky-tlds", 30, RULE_BLOCK, RESP_NODATA,
	    REDIR_DEFAULT, 17, 11);
	expect_conds(cr, 0, 3, 0);
	ck_assert_str_eq(cr->tlds[0], "zip");
	ck_assert_str_eq(cr->tlds[1], "mov");
	ck_assert_str_eq(cr->tlds[2], "xn--p1ai");

	cr = &g->rules[3];
	expect_rule(cr, "sinkhole", 40, RULE_BLOCK, RESP_OVERRIDE,
	    REDIR_DEFAULT, 18, 11);
	expect_conds(cr, 1, 1, 0);
	ck_assert_uint_eq(cr->feeds[0], 0);
	ck_assert_str_eq(cr->tlds[0], "com");
	o = &cr->override;
	ck_assert_uint_eq(o->na, 2);
	inet_pton(AF_INET, "192.0.2.1", ip);
	ck_assert_mem_eq(o->a[0], ip, 4);
	inet_pton(AF_INET, "192.0.2.2", ip);
	ck_assert_mem_eq(o->a[1], ip, 4);
	ck_assert_uint_eq(o->naaaa, 1);
	inet_pton(AF_INET6, "2001:db8::1", ip);
	ck_assert_mem_eq(o->aaaa[0], ip, 16);
	ck_assert_uint_eq(o->cnamelen, 0);
	ck_assert_uint_eq(o->ttl, 30);

	cr = &g->rules[4];
	expect_rule(cr, "cname-sink", 50, RULE_BLOCK, RESP_OVERRIDE,
	    REDIR_TRUST, 23, 11);
	expect_conds(cr, 0, 0, 1);
	ck_assert_uint_eq(cr->qtypes[0], 16);
	o = &cr->override;
	ck_assert_uint_eq(o->na, 0);
	ck_assert_uint_eq(o->naaaa, 0);
	ck_assert_uint_eq(o->cnamelen, sizeof(sink));
	ck_assert_mem_eq(o->cname, sink, sizeof(sink));
	ck_assert_uint_eq(o->ttl, 60);

	cr = &g->rules[5];
	expect_rule(cr, "refuse", 60, RULE_BLOCK, RESP_REFUSED,
	    REDIR_DEFAULT, 30, 11);
	expect_conds(cr, 0, 1, 0);
	ck_assert_str_eq(cr->tlds[0], "test");

	cr = &g->rules[6];
	expect_rule(cr, "drop", 70, RULE_BLOCK, RESP_DROP, REDIR_DEFAULT,
	    31, 11);
	ck_assert_str_eq(cr->tlds[0], "invalid");

	cr = &g->rules[7];
	expect_rule(cr, "txt-watch", 80, RULE_ALERT, RESP_AUTO,
	    REDIR_DEFAULT, 32, 11);
	expect_conds(cr, 0, 0, 2);
	ck_assert_uint_eq(cr->qtypes[0], 16);
	ck_assert_uint_eq(cr->qtypes[1], 10);

	cr = &g->rules[8];
	expect_rule(cr, "auto", 90, RULE_BLOCK, RESP_AUTO, REDIR_DEFAULT,
	    33, 11);
	expect_conds(cr, 1, 0, 0);
	ck_assert_uint_eq(cr->feeds[0], 0);

	g = &r.cfg.groups[1];
	ck_assert_str_eq(g->name, "guests");
	ck_assert_int_eq(g->priority, 50);
	ck_assert_int_eq(g->line, 34);
	ck_assert_int_eq(g->col, 7);
	ck_assert_ptr_null(g->clients);		/* every client */
	ck_assert_uint_eq(g->nrules, 1);
	cr = &g->rules[0];
	expect_rule(cr, "everything", 0, RULE_BLOCK, RESP_NXDOMAIN,
	    REDIR_DEFAULT, 37, 11);
	expect_conds(cr, 1, 0, 0);
	ck_assert_uint_eq(cr->feeds[0], 2);
	run_done(&r);
}
END_TEST

/* Feed formats, TTL spellings, TYPEnnn, a bare-string condition. */
START_TEST(test_policy_values)
{
	struct run	 r;

	run_load(&r,
	    "feeds:\n"
	    "  - { id: a.b_c-1, path: p, format: plain }\n"
	    "  - { id: h, path: q, format: hosts }\n"
	    "  - { id: x, path: r, format: auto, match: subdomains }\n"
	    "policy:\n"
	    "  block-ttl: 86400\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1000000\n"
	    "      rules:\n"
	    "        - { name: r, priority: 0, match: { qtype: type1234 },"
	    " action: allow, redirection: inspect }\n"
	    "        - { name: s, priority: 1, match: { feed: h },"
	    " action: block, response: { override: { a: 192.0.2.9,"
	    " ttl: 0 } } }\n"
	    "        - { name: t, priority: 2, match: { tld: X },"
	    " action: block, response: { override: { aaaa: [\"::1\"],"
	    " ttl: 1d } } }\n"
	    "        - { name: u, priority: 3, match: { qtype: ANY },"
	    " action: block, response: auto }\n", RC_PLAIN);
	ck_assert_int_eq(r.nmsg, 0);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nfeeds, 3);
	ck_assert_str_eq(r.cfg.feeds[0].id, "a.b_c-1");
	ck_assert_int_eq(r.cfg.feeds[0].format, FEED_PLAIN);
	ck_assert_int_eq(r.cfg.feeds[1].format, FEED_HOSTS);
	ck_assert_int_eq(r.cfg.feeds[2].format, FEED_AUTO);
	ck_assert_int_eq(r.cfg.policy_default, RULE_ALLOW);
	ck_assert_int_eq(r.cfg.redirection, REDIR_INSPECT);
	ck_assert_uint_eq(r.cfg.block_ttl, 86400);
	ck_assert_int_eq(r.cfg.groups[0].priority, 1000000);
	ck_assert_uint_eq(r.cfg.groups[0].rules[0].qtypes[0], 1234);
	ck_assert_int_eq(r.cfg.groups[0].rules[0].redirection,
	    REDIR_INSPECT);
	ck_assert_uint_eq(r.cfg.groups[0].rules[1].feeds[0], 1);
	ck_assert_uint_eq(r.cfg.groups[0].rules[1].override.na, 1);
	ck_assert_uint_eq(r.cfg.groups[0].rules[1].override.ttl, 0);
	ck_assert_str_eq(r.cfg.groups[0].rules[2].tlds[0], "x");
	ck_assert_uint_eq(r.cfg.groups[0].rules[2].override.naaaa, 1);
	ck_assert_uint_eq(r.cfg.groups[0].rules[2].override.ttl, 86400);
	ck_assert_uint_eq(r.cfg.groups[0].rules[3].qtypes[0], 255);
	ck_assert_int_eq(r.cfg.groups[0].rules[3].response, RESP_AUTO);
	run_done(&r);

	/* The shortest TTL and the most addresses there is room for. */
	run_load(&r,
	    "policy:\n"
	    "  block-ttl: 1s\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 0\n"
	    "      rules:\n"
	    "        - { name: r, priority: 0, match: { tld: com },"
	    " action: block, response: { override: { a: [192.0.2.1,"
	    " 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5, 192.0.2.6,"
	    " 192.0.2.7, 192.0.2.8] } } }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.block_ttl, 1);
	ck_assert_uint_eq(r.cfg.groups[0].rules[0].override.na,
	    CONFIG_MAX_OVERRIDE);
	ck_assert_uint_eq(r.cfg.groups[0].rules[0].override.a[7][3], 8);
	run_done(&r);
}
END_TEST

/* One group "g" at priority 1; its first rule is on line 6, column 11. */
#define G0	"policy:\n  groups:\n    - name: g\n      priority: 1\n" \
		"      rules:\n"
/* A rule on line 6 with name r, priority 1, and the keys given. */
#define R0(keys) G0 "        - { name: r, priority: 1, " keys " }\n"
/* The same with the usual match and action: keys are extras. */
#define RB(keys) R0("match: { tld: com }, action: block, " keys)

START_TEST(test_err_policy_missing)
{
	expect_one("feeds:\n  - { id: a }\n", RC_PLAIN,
	    ":2:5: feeds[0]: missing key 'path'");
	expect_one("feeds:\n  - path: /x\n", RC_PLAIN,
	    ":2:5: feeds[0]: missing key 'id'");
	expect_one("policy:\n  groups:\n    - name: g\n      rules: "
	    "[{ name: r, priority: 1, match: { tld: com }, action: allow }]\n",
	    RC_PLAIN, ":3:7: policy.groups[0]: missing key 'priority'");
	expect_one("policy:\n  groups:\n    - { name: g, priority: 1 }\n",
	    RC_PLAIN, ":3:7: policy.groups[0]: missing key 'rules'");
	expect_one(G0 "        - { name: r, priority: 1, match: "
	    "{ tld: com } }\n", RC_PLAIN,
	    ":6:11: policy.groups[0].rules[0]: missing key 'action'");
	expect_one(G0 "        - name: r\n          action: allow\n"
	    "          priority: 1\n", RC_PLAIN,
	    ":6:11: policy.groups[0].rules[0]: missing key 'match'");
	expect_one(RB("response: {}"), RC_PLAIN,
	    ":6:81: policy.groups[0].rules[0].response: missing key "
	    "'override'");
	expect_one(G0 "        - { name: r, priority: 1, match: {},"
	    " action: allow }\n", RC_PLAIN,
	    ":6:42: policy.groups[0].rules[0].match: at least one condition "
	    "is required (feed, tld, qtype, answer-ip, answer-country, "
	    "answer-asn or client-country)");
	expect_one("policy:\n  groups:\n    - { name: g, priority: 1,"
	    " rules: [] }\n", RC_PLAIN,
	    ":3:38: policy.groups[0].rules: at least one rule is required");
	expect_one(RB("response: { override: { ttl: 5 } }"), RC_PLAIN,
	    ":6:93: policy.groups[0].rules[0].response.override: needs a, "
	    "aaaa or cname");
}
END_TEST

START_TEST(test_err_policy_unknown_key)
{
	struct run	 r;

	expect_one("feeds:\n  - { id: a, path: b, url: x }\n", RC_PLAIN,
	    ":2:23: unknown key 'url' in 'feeds[0]'");
	expect_one("policy:\n  groups:\n    - { name: g, priority: 1,"
	    " rules: [{ name: r, priority: 1, match: { tld: com },"
	    " action: allow }], scope: x }\n", RC_PLAIN,
	    ":3:102: unknown key 'scope' in 'policy.groups[0]'");
	expect_one(RB("log: true"), RC_PLAIN,
	    ":6:71: unknown key 'log' in 'policy.groups[0].rules[0]'");
	expect_one(R0("match: { domain: x.com }, action: allow"), RC_PLAIN,
	    ":6:44: unknown key 'domain' in "
	    "'policy.groups[0].rules[0].match'");
	expect_one(RB("response: { override: { a: 192.0.2.1, txt: hi } }"),
	    RC_PLAIN, ":6:109: unknown key 'txt' in "
	    "'policy.groups[0].rules[0].response.override'");
	run_load(&r, RB("response: { nxdomain: true }"), RC_PLAIN);
	ck_assert_int_eq(r.nerr, 2);
	expect_msg(&r, 0, ":6:83: unknown key 'nxdomain' in "
	    "'policy.groups[0].rules[0].response'");
	expect_msg(&r, 1, ":6:81: policy.groups[0].rules[0].response: "
	    "missing key 'override'");
	run_done(&r);
	expect_one("policy:\n  mode: strict\n", RC_PLAIN,
	    ":2:3: unknown key 'mode' in 'policy'");
}
END_TEST

START_TEST(test_err_policy_enum)
{
	expect_one(R0("match: { tld: com }, action: deny"), RC_PLAIN,
	    ":6:64: policy.groups[0].rules[0].action: expected allow, block "
	    "or alert, got 'deny'");
	expect_one("feeds:\n  - { id: a, path: b, format: csv }\n", RC_PLAIN,
	    ":2:31: feeds[0].format: expected auto, plain, hosts, rpz, "
	    "adblock or ip, got 'csv'");
	expect_one("feeds:\n  - { id: a, path: b, match: all }\n", RC_PLAIN,
	    ":2:30: feeds[0].match: expected subdomains or exact, got 'all'");
	expect_one("policy:\n  default: deny\n", RC_PLAIN,
	    ":2:12: policy.default: expected allow or block, got 'deny'");
	expect_one("policy:\n  default: alert\n", RC_PLAIN,
	    ":2:12: policy.default: expected allow or block, got 'alert'");
	expect_one("policy:\n  redirection: follow\n", RC_PLAIN,
	    ":2:16: policy.redirection: expected inspect or trust, "
	    "got 'follow'");
	expect_one(RB("redirection: Trust"), RC_PLAIN,
	    ":6:84: policy.groups[0].rules[0].redirection: expected inspect "
	    "or trust, got 'Trust'");
	expect_one(RB("response: servfail"), RC_PLAIN,
	    ":6:81: policy.groups[0].rules[0].response: expected auto, "
	    "nxdomain, nodata, refused or drop, got 'servfail'");
	expect_one(RB("response: override"), RC_PLAIN,
	    ":6:81: policy.groups[0].rules[0].response: override takes a "
	    "mapping, e.g. { override: { a: 192.0.2.1 } }");
	expect_one(RB("response: [nxdomain]"), RC_PLAIN,
	    ":6:81: policy.groups[0].rules[0].response: expected a string "
	    "or a mapping, got a list");
}
END_TEST

START_TEST(test_err_policy_duplicate)
{
	expect_one("feeds:\n  - { id: a, path: x }\n  - { id: a, path: y }\n",
	    RC_PLAIN, ":3:11: feeds[1].id: duplicate feed id 'a'");
	expect_one("policy:\n  groups:\n"
	    "    - { name: baseline, priority: 100, rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }] }\n"
	    "    - { name: other, priority: 100, rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }] }\n",
	    RC_PLAIN, ":4:32: policy.groups[1].priority: 100 is already used "
	    "by group 'baseline'");
	expect_one("policy:\n  groups:\n"
	    "    - { name: baseline, priority: 100, rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }] }\n"
	    "    - { name: baseline, priority: 200, rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }] }\n",
	    RC_PLAIN, ":4:15: policy.groups[1].name: duplicate group name "
	    "'baseline'");
	expect_one(G0
	    "        - { name: first, priority: 20, match: { tld: com },"
	    " action: allow }\n"
	    "        - { name: second, priority: 20, match: { tld: net },"
	    " action: allow }\n", RC_PLAIN,
	    ":7:37: policy.groups[0].rules[1].priority: 20 is already used by "
	    "rule 'first'");
	expect_one(G0
	    "        - { name: first, priority: 20, match: { tld: com },"
	    " action: allow }\n"
	    "        - { name: first, priority: 30, match: { tld: net },"
	    " action: allow }\n", RC_PLAIN,
	    ":7:19: policy.groups[0].rules[1].name: duplicate rule name "
	    "'first'");
	expect_one("feeds:\n  - { id: \"a b\", path: x }\n", RC_PLAIN,
	    ":2:11: feeds[0].id: bad id 'a b': only letters, digits, '_', "
	    "'.' and '-'");
	expect_one("policy:\n  groups:\n    - { name: g, priority: 1000001,"
	    " rules: [{ name: r, priority: 1, match: { tld: com },"
	    " action: allow }] }\n", RC_PLAIN,
	    ":3:28: policy.groups[0].priority: 1000001 is out of range "
	    "(0..1000000)");
}
END_TEST

/* Feeds may come after the policy: references resolve at the end. */
START_TEST(test_err_policy_feed_ref)
{
	struct run	 r;

	run_load(&r, G0
	    "        - { name: a, priority: 1, match: { feed: malware },"
	    " action: block }\n"
	    "        - { name: b, priority: 2, match: { feed: [malware, x] },"
	    " action: block }\n"
	    "feeds:\n"
	    "  - { id: malware, path: m.rpz }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	ck_assert_int_eq(r.nmsg, 1);
	expect_msg(&r, 0, ":7:60: policy.groups[0].rules[1].match.feed: "
	    "no feed with id 'x'");
	run_done(&r);

	expect_one(R0("match: { feed: [] }, action: allow"), RC_PLAIN,
	    ":6:50: policy.groups[0].rules[0].match.feed: empty list");
	expect_one(R0("match: { feed: { id: x } }, action: allow"), RC_PLAIN,
	    ":6:50: policy.groups[0].rules[0].match.feed: expected a string "
	    "or a list, got a mapping");
}
END_TEST

START_TEST(test_err_policy_tld)
{
	expect_one(R0("match: { tld: x_y }, action: allow"), RC_PLAIN,
	    ":6:49: policy.groups[0].rules[0].match.tld: bad TLD 'x_y': "
	    "only letters, digits and '-' (an IDN TLD in its xn-- form)");
	expect_one(R0("match: { tld: [com, co.uk] }, action: allow"),
	    RC_PLAIN, ":6:55: policy.groups[0].rules[0].match.tld: bad TLD "
	    "'co.uk': more than one label");
	expect_one(R0("match: { tld: \".\" }, action: allow"), RC_PLAIN,
	    ":6:49: policy.groups[0].rules[0].match.tld: bad TLD '.': "
	    "empty label");
	expect_one(R0("match: { tld: -ab }, action: allow"), RC_PLAIN,
	    ":6:49: policy.groups[0].rules[0].match.tld: bad TLD '-ab': "
	    "starts or ends with '-'");
	expect_one(R0("match: { tld: ab--cd }, action: allow"), RC_PLAIN,
	    ":6:49: policy.groups[0].rules[0].match.tld: bad TLD 'ab--cd': "
	    "'--' at positions 3-4 is only for xn-- labels");
	expect_one(R0("match: { tld: \xd1\x80\xd1\x84 }, action: allow"),
	    RC_PLAIN, ":6:49: policy.groups[0].rules[0].match.tld: bad TLD "
	    "'\xd1\x80\xd1\x84': only letters, digits and '-' (an IDN TLD in "
	    "its xn-- form)");
	expect_one(R0("match: { tld: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa }, action: allow"), RC_PLAIN,
	    ":6:49: policy.groups[0].rules[0].match.tld: bad TLD "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': "
	    "longer than 63 characters");
}
END_TEST

START_TEST(test_err_policy_qtype)
{
	expect_one(R0("match: { qtype: [A, FOO] }, action: allow"), RC_PLAIN,
	    ":6:55: policy.groups[0].rules[0].match.qtype: unknown type "
	    "'FOO'");
	expect_one(R0("match: { qtype: TYPE0 }, action: allow"), RC_PLAIN,
	    ":6:51: policy.groups[0].rules[0].match.qtype: unknown type "
	    "'TYPE0'");
	expect_one(R0("match: { qtype: TYPE65536 }, action: allow"), RC_PLAIN,
	    ":6:51: policy.groups[0].rules[0].match.qtype: unknown type "
	    "'TYPE65536'");
	expect_one(R0("match: { qtype: TYPE1x }, action: allow"), RC_PLAIN,
	    ":6:51: policy.groups[0].rules[0].match.qtype: unknown type "
	    "'TYPE1x'");
}
END_TEST

START_TEST(test_err_policy_response)
{
	expect_one(R0("match: { tld: com }, action: allow, response: nxdomain"),
	    RC_PLAIN, ":6:81: policy.groups[0].rules[0].response: only a "
	    "block rule has a response");
	/* Key order does not matter. */
	expect_one(R0("response: { override: { a: 192.0.2.1 } }, "
	    "match: { tld: com }, action: alert"), RC_PLAIN,
	    ":6:45: policy.groups[0].rules[0].response: only a block rule "
	    "has a response");
	expect_one(RB("response: { override: { a: 192.0.2.1,"
	    " cname: sink.example } }"), RC_PLAIN,
	    ":6:116: policy.groups[0].rules[0].response.override.cname: "
	    "cannot be combined with a or aaaa");
	expect_one(RB("response: { override: { cname: sink..example } }"),
	    RC_PLAIN, ":6:102: policy.groups[0].rules[0].response.override."
	    "cname: bad name 'sink..example': empty label");
	expect_one(RB("response: { override: { cname: \"a b\" } }"),
	    RC_PLAIN, ":6:102: policy.groups[0].rules[0].response.override."
	    "cname: bad name 'a b': only letters, digits, '-' and '_'");
	expect_one(RB("response: { override: { a: \"2001:db8::1\" } }"),
	    RC_PLAIN, ":6:98: policy.groups[0].rules[0].response.override.a: "
	    "bad IPv4 address '2001:db8::1'");
	expect_one(RB("response: { override: { aaaa: [\"::1\", 192.0.2.1] } }"),
	    RC_PLAIN, ":6:109: policy.groups[0].rules[0].response.override."
	    "aaaa: bad IPv6 address '192.0.2.1'");
	expect_one(RB("response: { override: { a: 192.0.2.1, ttl: 2d } }"),
	    RC_PLAIN, ":6:114: policy.groups[0].rules[0].response.override."
	    "ttl: 2d is out of range (0..1d)");
	expect_one(RB("response: { override: { a: [192.0.2.1, 192.0.2.2,"
	    " 192.0.2.3, 192.0.2.4, 192.0.2.5, 192.0.2.6, 192.0.2.7,"
	    " 192.0.2.8, 192.0.2.9, 192.0.2.10] } }"), RC_PLAIN,
	    ":6:187: policy.groups[0].rules[0].response.override.a: more "
	    "than 8 addresses");
}
END_TEST

START_TEST(test_err_policy_clients)
{
	expect_one("policy:\n  groups:\n    - name: g\n      priority: 1\n"
	    "      clients: []\n      rules: [{ name: r, priority: 1,"
	    " match: { tld: com }, action: allow }]\n", RC_PLAIN,
	    ":5:16: policy.groups[0].clients: an empty list matches no client "
	    "(leave clients out to match every client)");
	expect_one("policy:\n  groups:\n    - name: g\n      priority: 1\n"
	    "      clients: [10.0.0.0/8, 10.1.0.1/16]\n      rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }]\n", RC_PLAIN,
	    ":5:29: policy.groups[0].clients: bad network '10.1.0.1/16': "
	    "host bits set");
	expect_one("policy:\n  groups:\n    - name: g\n      priority: 1\n"
	    "      clients: 10.0.0.0/8\n      rules: [{ name: r,"
	    " priority: 1, match: { tld: com }, action: allow }]\n", RC_PLAIN,
	    ":5:16: 'policy.groups[0].clients' must be a list");
}
END_TEST

START_TEST(test_err_policy_ttl)
{
	expect_one("policy:\n  block-ttl: 0\n", RC_PLAIN,
	    ":2:14: policy.block-ttl: 0 is out of range (1s..1d)");
	expect_one("policy:\n  block-ttl: 86401\n", RC_PLAIN,
	    ":2:14: policy.block-ttl: 86401 is out of range (1s..1d)");
	expect_one("policy:\n  block-ttl: 99999999999999999999999\n", RC_PLAIN,
	    ":2:14: policy.block-ttl: 99999999999999999999999 is out of "
	    "range (1s..1d)");
	expect_one("policy:\n  block-ttl: 1500ms\n", RC_PLAIN,
	    ":2:14: policy.block-ttl: 1500ms is not a whole number of "
	    "seconds");
	expect_one("policy:\n  block-ttl: 1w\n", RC_PLAIN,
	    ":2:14: policy.block-ttl: bad duration '1w': unknown unit "
	    "(ms, s, m, h or d)");
}
END_TEST

/* Every mistake of a policy in one run, in file order per item. */
START_TEST(test_err_policy_many)
{
	static const char yaml[] =
	    "policy:\n"
	    "  groups:\n"
	    "    - name: g\n"
	    "      priority: 1\n"
	    "      rules:\n"
	    "        - { name: r, priority: x, match: { feed: nope },"
	    " action: block }\n"
	    "        - { name: r, action: deny }\n"
	    "        - nonsense\n"
	    "    - [1]\n"
	    "feeds:\n"
	    "  - { id: ok, path: \"\" }\n";
	struct run	 r;

	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 9);
	ck_assert_int_eq(r.nmsg, 9);
	expect_msg(&r, 0, ":6:32: policy.groups[0].rules[0].priority: 'x' is "
	    "not an integer");
	expect_msg(&r, 1, ":7:19: policy.groups[0].rules[1].name: duplicate "
	    "rule name 'r'");
	expect_msg(&r, 2, ":7:30: policy.groups[0].rules[1].action: expected "
	    "allow, block or alert, got 'deny'");
	expect_msg(&r, 3, ":7:11: policy.groups[0].rules[1]: missing key "
	    "'priority'");
	expect_msg(&r, 4, ":7:11: policy.groups[0].rules[1]: missing key "
	    "'match'");
	expect_msg(&r, 5, ":8:11: 'policy.groups[0].rules[2]' must be a "
	    "mapping");
	expect_msg(&r, 6, ":9:7: 'policy.groups[1]' must be a mapping");
	expect_msg(&r, 7, ":11:21: feeds[0].path: empty path");
	expect_msg(&r, 8, ":6:50: policy.groups[0].rules[0].match.feed: "
	    "no feed with id 'nope'");
	ck_assert_ptr_null(r.cfg.groups);	/* released on failure */
	ck_assert_ptr_null(r.cfg.feeds);
	run_done(&r);
}
END_TEST

/*
 * zones:
 */

static const char zones_yaml[] =
    "zones:\n"
    "  - name: PrivateLink.Blob.Core.Windows.Net.\n"
    "    forward: [\"168.63.129.16\", \"192.0.2.1:5353\", \"[2001:db8::1]\"]\n"
    "    on-nxdomain: fallback\n"
    "  - name: corp.internal\n"
    "    local:\n"
    "      - \"db 300 A 10.1.2.3\"\n"
    "      - \"www CNAME db\"\n"
    "      - '@ MX 10 mail.example.net.'\n"
    "  - { name: sink.example, local: [] }\n"
    "  - name: nodata.test\n"
    "    on-nodata: fallback\n"
    "    fallback: [192.0.2.3, \"[2001:db8::53]:5353\"]\n"
    "    forward: [192.0.2.2]\n"
    "  - { name: plain.test, forward: [192.0.2.4], on-nxdomain: answer,"
    " on-nodata: answer }\n";

START_TEST(test_zones_valid)
{
	static const uint8_t	 pl[] = "\x0bprivatelink\x04" "blob\x04"
				    "core\x07windows\x03net";
	const struct config_zone *z;
	struct zones		*zs;
	struct run		 r;
	char			 err[256];

	run_load(&r, zones_yaml, RC_PLAIN);
	ck_assert_int_eq(r.nmsg, 0);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nzones, 5);

	z = &r.cfg.zones[0];
	ck_assert_str_eq(z->name, "privatelink.blob.core.windows.net");
	ck_assert_uint_eq(z->wirelen, sizeof(pl));
	ck_assert_int_eq(memcmp(z->wire, pl, sizeof(pl)), 0);
	ck_assert_int_eq(z->kind, ZONE_FORWARD);
	ck_assert_uint_eq(z->nforward, 3);
	expect_addr(&z->forward[0], "168.63.129.16", "168.63.129.16:53");
	expect_addr(&z->forward[1], "192.0.2.1:5353", "192.0.2.1:5353");
	expect_addr(&z->forward[2], "[2001:db8::1]", "[2001:db8::1]:53");
	ck_assert_int_eq(z->on_nxdomain, 1);
	ck_assert_int_eq(z->on_nodata, 0);
	ck_assert_uint_eq(z->nfallback, 0);
	ck_assert_ptr_null(z->fallback);
	ck_assert_uint_eq(z->nlocal, 0);
	ck_assert_int_eq(z->line, 2);
	ck_assert_int_eq(z->col, 5);

	z = &r.cfg.zones[1];
	ck_assert_str_eq(z->name, "corp.internal");
	ck_assert_int_eq(z->kind, ZONE_LOCAL);
	ck_assert_uint_eq(z->nforward, 0);
	ck_assert_uint_eq(z->nlocal, 3);
	ck_assert_str_eq(z->local[0], "db 300 A 10.1.2.3");
	ck_assert_str_eq(z->local[1], "www CNAME db");
	ck_assert_str_eq(z->local[2], "@ MX 10 mail.example.net.");
	ck_assert_int_eq(z->local_line[0], 7);
	ck_assert_int_eq(z->local_col[0], 9);
	ck_assert_int_eq(z->local_line[2], 9);
	ck_assert_int_eq(z->local_col[2], 9);

	z = &r.cfg.zones[2];		/* a sinkhole: no records at all */
	ck_assert_str_eq(z->name, "sink.example");
	ck_assert_int_eq(z->kind, ZONE_LOCAL);
	ck_assert_uint_eq(z->nlocal, 0);
	ck_assert_int_eq(z->line, 10);

	z = &r.cfg.zones[3];
	ck_assert_int_eq(z->kind, ZONE_FORWARD);
	ck_assert_int_eq(z->on_nxdomain, 0);
	ck_assert_int_eq(z->on_nodata, 1);
	ck_assert_uint_eq(z->nforward, 1);
	expect_addr(&z->forward[0], "192.0.2.2", "192.0.2.2:53");
	ck_assert_uint_eq(z->nfallback, 2);
	expect_addr(&z->fallback[0], "192.0.2.3", "192.0.2.3:53");
	expect_addr(&z->fallback[1], "[2001:db8::53]:5353",
	    "[2001:db8::53]:5353");

	z = &r.cfg.zones[4];
	ck_assert_int_eq(z->on_nxdomain, 0);
	ck_assert_int_eq(z->on_nodata, 0);

	/* What the parser accepted, the zone module builds. */
	zs = zones_build(&r.cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(zs);
	zones_free(zs);
	run_done(&r);

	/* An empty list is no zones. */
	run_load(&r, "zones: []\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nzones, 0);
	ck_assert_ptr_null(r.cfg.zones);
	run_done(&r);
}
END_TEST

#define Z0	"zones:\n  - "

START_TEST(test_err_zones_name)
{
	char	 yaml[256], label[70];

	expect_one(Z0 "{ name: ., forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":2:13: zones[0].name: the root is the default backend "
	    "(resolver:), not a zone");
	expect_one(Z0 "{ name: a..b, forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":2:13: zones[0].name: bad name 'a..b': empty label");
	expect_one(Z0 "{ name: \"a b.test\", forward: [192.0.2.1] }\n",
	    RC_PLAIN, ":2:13: zones[0].name: bad name 'a b.test': only "
	    "letters, digits, '-' and '_'");
	expect_one(Z0 "{ name: \"\", forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":2:13: zones[0].name: bad name '': empty name");
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(yaml, sizeof(yaml), Z0 "{ name: %s.test, forward: "
	    "[192.0.2.1] }\n", label);
	expect_one(yaml, RC_PLAIN, ":2:13: zones[0].name: bad name "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".test': label longer than 63 characters");
	expect_one(Z0 "{ name: [a], forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":2:13: zones[0].name: expected a string, got a list");
	/* Any case, with or without the final dot, is the same zone. */
	expect_one(Z0 "{ name: corp.internal, local: [] }\n"
	    "  - { name: Corp.Internal., forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":3:13: zones[1].name: zone 'corp.internal' is already declared "
	    "at line 2");
	expect_one(Z0 "{ forward: [192.0.2.1] }\n", RC_PLAIN,
	    ":2:5: zones[0]: missing key 'name'");
}
END_TEST

START_TEST(test_err_zones_kind)
{
	struct run	 r;

	expect_one(Z0 "{ name: a.test }\n", RC_PLAIN,
	    ":2:5: zones[0]: needs forward (servers to ask) or local (records "
	    "to answer)");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], local: [] }\n",
	    RC_PLAIN, ":2:50: zones[0].local: a zone has forward or local, "
	    "not both");
	expect_one(Z0 "{ name: a.test, local: [], forward: [192.0.2.1] }\n",
	    RC_PLAIN, ":2:41: zones[0].forward: a zone has forward or local, "
	    "not both");
	expect_one(Z0 "{ name: a.test, local: [], on-nxdomain: fallback }\n",
	    RC_PLAIN, ":2:45: zones[0].on-nxdomain: only for a forward zone "
	    "(a local zone's answers are final)");
	expect_one(Z0 "{ name: a.test, local: [], on-nodata: answer }\n",
	    RC_PLAIN, ":2:43: zones[0].on-nodata: only for a forward zone "
	    "(a local zone's answers are final)");
	run_load(&r, Z0 "{ name: a.test, local: [], fallback: [192.0.2.1] }\n",
	    RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":2:42: zones[0].fallback: only for a forward zone "
	    "(a local zone's answers are final)");
	run_done(&r);
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], "
	    "fallback: [192.0.2.2] }\n", RC_PLAIN,
	    ":2:53: zones[0].fallback: needs on-nxdomain: fallback or "
	    "on-nodata: fallback");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], on-nxdomain: "
	    "answer, fallback: [192.0.2.2] }\n", RC_PLAIN,
	    ":2:74: zones[0].fallback: needs on-nxdomain: fallback or "
	    "on-nodata: fallback");
	/* A bad on-* value is one error, not two. */
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], on-nodata: "
	    "maybe, fallback: [192.0.2.2] }\n", RC_PLAIN,
	    ":2:54: zones[0].on-nodata: expected fallback or answer, got "
	    "'maybe'");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], stub: true }\n",
	    RC_PLAIN, ":2:43: unknown key 'stub' in 'zones[0]'");
	expect_one("zones: { name: a.test }\n", RC_PLAIN,
	    ":1:8: 'zones' must be a list");
	expect_one("zones:\n  - a.test\n", RC_PLAIN,
	    ":2:5: 'zones[0]' must be a mapping");
}
END_TEST

START_TEST(test_err_zones_servers)
{
	char		 yaml[4096];
	size_t		 off;
	int		 i;
	struct run	 r;

	expect_one(Z0 "{ name: a.test, forward: [system] }\n", RC_PLAIN,
	    ":2:31: zones[0].forward: 'system' is only for "
	    "resolver.upstreams; a zone names its servers");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1:99999] }\n",
	    RC_PLAIN, ":2:31: zones[0].forward: bad address "
	    "'192.0.2.1:99999': port out of range (1..65535)");
	expect_one(Z0 "{ name: a.test, forward: [] }\n", RC_PLAIN,
	    ":2:30: zones[0].forward: at least one address is required");
	expect_one(Z0 "{ name: a.test, forward: 192.0.2.1 }\n", RC_PLAIN,
	    ":2:30: 'zones[0].forward' must be a list");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], on-nxdomain: "
	    "fallback, fallback: [] }\n", RC_PLAIN,
	    ":2:76: zones[0].fallback: at least one address is required");

	off = (size_t)snprintf(yaml, sizeof(yaml), "zones:\n  - name: a.test\n"
	    "    on-nodata: fallback\n    fallback:\n");
	for (i = 0; i < CONFIG_MAX_UPSTREAMS + 2; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "      - 192.0.2.%d\n", i + 1);
	snprintf(yaml + off, sizeof(yaml) - off,
	    "    forward: [192.0.2.200]\n");
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":21:9: zones[0].fallback: more than 16 addresses");
	run_done(&r);

	/* A zone's server may not be one of our listeners either. */
	expect_one("server: { listen: [\"127.0.0.1:5353\"] }\n"
	    Z0 "{ name: a.test, forward: [192.0.2.1, \"127.0.0.1:5353\"] }\n",
	    RC_PLAIN, ":3:42: zones[0].forward: 127.0.0.1:5353 is also in "
	    "server.listen (a forwarding loop)");
	expect_one(Z0 "{ name: a.test, forward: [192.0.2.1], on-nxdomain: "
	    "fallback, fallback: [\"[::1]\"] }\n"
	    "server: { listen: [\"[::1]:53\"] }\n", RC_PLAIN,
	    ":2:77: zones[0].fallback: [::1]:53 is also in server.listen "
	    "(a forwarding loop)");
}
END_TEST

START_TEST(test_err_zones_local)
{
	struct run	 r;

	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"www A 10.0.0.1\"\n"
	    "      - \"x.example.com. A 10.0.0.2\"\n", RC_PLAIN,
	    ":5:9: zones[0].local[1]: owner 'x.example.com.' is not in the "
	    "zone");
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"www CH TXT hi\"\n", RC_PLAIN,
	    ":4:9: zones[0].local[0]: class CH: a local zone holds class IN "
	    "only");
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"www DS 1 8 2 abcd\"\n", RC_PLAIN,
	    ":4:9: zones[0].local[0]: type DS: DNSSEC records cannot be "
	    "served (a local zone is not signed)");
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"sub SOA ns hm 1 2 3 4 5\"\n", RC_PLAIN,
	    ":4:9: zones[0].local[0]: a SOA record belongs at the zone apex "
	    "(@), not at 'sub.corp.internal.'");
	/* The records together: at the later one of the pair. */
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"www CNAME db\"\n"
	    "      - \"db A 10.0.0.1\"\n"
	    "      - \"www A 10.0.0.2\"\n", RC_PLAIN,
	    ":6:9: zones[0].local[2]: other data cannot be beside a CNAME at "
	    "'www.corp.internal.' (local[0])");
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"@ CNAME other.example.\"\n", RC_PLAIN,
	    ":4:9: zones[0].local[0]: a CNAME cannot be at the zone apex "
	    "(it has the SOA)");
	expect_one(Z0 "name: corp.internal\n    local:\n"
	    "      - \"@ SOA ns hm 1 2 3 4 5\"\n"
	    "      - \"@ SOA ns hm 2 2 3 4 5\"\n", RC_PLAIN,
	    ":5:9: zones[0].local[1]: a second SOA record (local[0])");
	/* The name may come after the records. */
	expect_one(Z0 "local: [\"a CNAME b\", \"a CNAME c\"]\n"
	    "    name: corp.internal\n", RC_PLAIN,
	    ":2:26: zones[0].local[1]: a second CNAME at 'a.corp.internal.' "
	    "(local[0])");
	expect_one(Z0 "{ name: corp.internal, local: \"www A 10.0.0.1\" }\n",
	    RC_PLAIN, ":2:35: 'zones[0].local' must be a list");
	/* Each bad record is reported; a bad name checks none. */
	run_load(&r, Z0 "{ name: corp.internal, local: [[a], \"x A 1\","
	    " \"y CH A 10.0.0.1\"] }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 3);
	expect_msg(&r, 0, ":2:36: zones[0].local[0]: expected a string, got "
	    "a list");
	ck_assert_ptr_nonnull(strstr(r.msg[1], ":2:41: zones[0].local[1]: "
	    "bad record: "));
	expect_msg(&r, 2, ":2:50: zones[0].local[2]: class CH: a local zone "
	    "holds class IN only");
	run_done(&r);
	expect_one(Z0 "{ name: a..b, local: [\"x.other. A 10.0.0.1\"] }\n",
	    RC_PLAIN, ":2:13: zones[0].name: bad name 'a..b': empty label");
}
END_TEST

/* The counts: zones, records. */
START_TEST(test_err_zones_limits)
{
	char		*yaml;
	size_t		 off, sz = 1 << 20;
	int		 i;
	struct run	 r;

	yaml = malloc(sz);
	ck_assert_ptr_nonnull(yaml);
	off = (size_t)snprintf(yaml, sz, "zones:\n");
	for (i = 0; i < CONFIG_MAX_ZONES + 1; i++)
		off += (size_t)snprintf(yaml + off, sz - off,
		    "  - { name: z%d.test, local: [] }\n", i);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":2:3: zones: more than 1024 zones");
	run_done(&r);

	/* Exactly the limit is fine. */
	off = (size_t)snprintf(yaml, sz, "zones:\n");
	for (i = 0; i < CONFIG_MAX_ZONES; i++)
		off += (size_t)snprintf(yaml + off, sz - off,
		    "  - { name: z%d.test, forward: [192.0.2.1] }\n", i);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.nzones, CONFIG_MAX_ZONES);
	run_done(&r);

	off = (size_t)snprintf(yaml, sz, "zones:\n  - name: corp.internal\n"
	    "    local:\n");
	for (i = 0; i < CONFIG_MAX_LOCAL + 1; i++)
		off += (size_t)snprintf(yaml + off, sz - off,
		    "      - \"h%d A 10.0.0.1\"\n", i);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 1);
	expect_msg(&r, 0, ":4100:9: zones[0].local: more than 4096 records");
	run_done(&r);

	off = (size_t)snprintf(yaml, sz, "zones:\n  - name: corp.internal\n"
	    "    local:\n");
	for (i = 0; i < CONFIG_MAX_LOCAL; i++)
		off += (size_t)snprintf(yaml + off, sz - off,
		    "      - \"h%d A 10.0.0.1\"\n", i);
	run_load(&r, yaml, RC_PLAIN);
	ck_assert_int_eq(r.nerr, 0);
	ck_assert_uint_eq(r.cfg.zones[0].nlocal, CONFIG_MAX_LOCAL);
	run_done(&r);
	free(yaml);
}
END_TEST

/* Errors in zones go on to report the rest, and nothing leaks. */
START_TEST(test_err_zones_many)
{
	struct run	 r;

	run_load(&r, "zones:\n"
	    "  - { name: ok.test, forward: [192.0.2.1], on-nxdomain: fallback,"
	    " fallback: [192.0.2.2] }\n"
	    "  - { name: corp.internal, local: [\"a A 10.0.0.1\"] }\n"
	    "  - { name: ., forward: [system] }\n"
	    "  - { name: corp.internal., local: [] }\n"
	    "resolver: { upstreams: [bad] }\n", RC_PLAIN);
	ck_assert_int_eq(r.nerr, 4);
	expect_msg(&r, 0, ":4:13: zones[2].name: the root is the default "
	    "backend (resolver:), not a zone");
	expect_msg(&r, 1, ":4:26: zones[2].forward: 'system' is only for "
	    "resolver.upstreams; a zone names its servers");
	expect_msg(&r, 2, ":5:13: zones[3].name: zone 'corp.internal' is "
	    "already declared at line 3");
	expect_msg(&r, 3, ":6:25: resolver.upstreams: bad address 'bad': "
	    "not an IP address");
	run_done(&r);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_release_zeroed);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_threads_auto);
	tcase_add_test(tc, test_decisions_sinks);
	tcase_add_test(tc, test_allow_clients);
	tcase_add_test(tc, test_system_expand);
	tcase_add_test(tc, test_duration_parse);
	tcase_add_test(tc, test_policy_defaults);
	tcase_add_test(tc, test_policy_full);
	tcase_add_test(tc, test_policy_values);
	tcase_add_test(tc, test_zones_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_err_unknown_key);
	tcase_add_test(tc, test_err_wrong_type);
	tcase_add_test(tc, test_err_bad_address);
	tcase_add_test(tc, test_err_duplicate_listen);
	tcase_add_test(tc, test_err_out_of_range);
	tcase_add_test(tc, test_err_bad_duration);
	tcase_add_test(tc, test_err_bad_bool);
	tcase_add_test(tc, test_err_duplicate_key);
	tcase_add_test(tc, test_err_yaml_syntax);
	tcase_add_test(tc, test_err_upstreams);
	tcase_add_test(tc, test_err_system_empty);
	tcase_add_test(tc, test_err_limits);
	tcase_add_test(tc, test_err_forwarding_loop);
	tcase_add_test(tc, test_err_cannot_open);
	tcase_add_test(tc, test_err_many);
	tcase_add_test(tc, test_err_policy_missing);
	tcase_add_test(tc, test_err_policy_unknown_key);
	tcase_add_test(tc, test_err_policy_enum);
	tcase_add_test(tc, test_err_policy_duplicate);
	tcase_add_test(tc, test_err_policy_feed_ref);
	tcase_add_test(tc, test_err_policy_tld);
	tcase_add_test(tc, test_err_policy_qtype);
	tcase_add_test(tc, test_err_policy_response);
	tcase_add_test(tc, test_err_policy_clients);
	tcase_add_test(tc, test_err_policy_ttl);
	tcase_add_test(tc, test_err_policy_many);
	tcase_add_test(tc, test_ops_defaults);
	tcase_add_test(tc, test_ops_values);
	tcase_add_test(tc, test_ops_errors);
	tcase_add_test(tc, test_recurse_keys);
	tcase_add_test(tc, test_err_zones_name);
	tcase_add_test(tc, test_err_zones_kind);
	tcase_add_test(tc, test_err_zones_servers);
	tcase_add_test(tc, test_err_zones_local);
	tcase_add_test(tc, test_err_zones_limits);
	tcase_add_test(tc, test_err_zones_many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
