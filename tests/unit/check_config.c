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
	expect_one("cache: {}\n", RC_PLAIN, ":1:1: unknown key 'cache'");
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
	expect_one("resolver:\n  mode: recurse\n", RC_PLAIN,
	    ":2:9: resolver.mode: 'recurse' is not available in this "
	    "version; use 'forward'");
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
	    "metrics: {}\n";
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
	expect_msg(&r, 8, ":11:1: unknown key 'metrics'");
	ck_assert_ptr_null(r.cfg.path);
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
