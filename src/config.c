/*
 * config.c -- the YAML configuration, parsed and validated.
 *
 * The file is loaded with libyaml's document API so that every node keeps
 * its position for error messages.  Each section is a table of key name ->
 * handler; a new key is a new row and a small handler.  Handlers report
 * problems through config_err() and keep going, so one run reports every
 * error in the file.
 *
 * The walk only descends into the fixed shape of the schema (sections,
 * their maps, lists of scalars or of the maps the schema names: zones,
 * feeds, groups, rules), never into arbitrary nodes, so aliases that make
 * a cycle cannot send it into a loop.  List items are named with their index
 * ("policy.groups[0].rules[2].action"); the item being filled is kept in
 * the context, since a handler only gets its name and node.
 *
 * Cross-references that can point forward (a rule naming a feed declared
 * later in the file) are collected and resolved after the whole document
 * has been read, and reported at the reference.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>
#include <yaml.h>

#include "acl.h"
#include "addr.h"
#include "config.h"
#include "geo.h"
#include "zone.h"

#define CONFIG_DNS_PORT		53
#define CONFIG_RESOLV_CONF	"/etc/resolv.conf"
#define CONFIG_NAMELEN		128	/* longest dotted key path */

/*
 * A rule's feed reference.  Feeds may be declared after the policy, so
 * references are resolved once the whole document has been read.
 */
struct config_ref {
	size_t			*slot;		/* in config_rule.(ip)feeds */
	int			 ip;		/* an answer-ip reference */
	const char		*id;		/* in the document */
	yaml_node_t		*node;		/* where it is written */
	char			 name[CONFIG_NAMELEN];
};

/* A zone's server, kept for the forwarding-loop check at the end. */
struct config_zaddr {
	const struct config_addr *addr;
	yaml_node_t		*node;		/* where it is written */
	char			 name[CONFIG_NAMELEN];
};

/* The state of one config_load() run. */
struct config_ctx {
	struct config		*cfg;
	const char		*path;
	const char		*resolv_conf;
	config_report_fn	 report;
	void			*arg;
	yaml_document_t		*doc;
	int			 nerr;
	int			 upstreams_set;	/* resolver.upstreams given */
	int			 upstreams_full; /* "more than" reported */
	/* Where each upstream came from, for the cross-checks. */
	yaml_node_t		*upstream_node[CONFIG_MAX_UPSTREAMS];
	/*
	 * The list item being read: handlers only get a name and a node,
	 * so the feed, group and rule they fill in are kept here.
	 */
	struct config_zone	*zone;
	int			 zone_on_bad;	/* an on-* value was wrong */
	struct config_feed	*feed;
	struct config_group	*group;
	struct config_rule	*rule;
	int			 action_ok;	/* rule action parsed */
	yaml_node_t		*response;	/* rule response node */
	struct config_ref	*refs;		/* to resolve at the end */
	int			 ipref;		/* reading answer-ip */
	int			 ccclient;	/* reading client-country */
	size_t			 nrefs;
	size_t			 refs_cap;
	struct config_zaddr	*zaddrs;	/* to check at the end */
	size_t			 nzaddrs;
	size_t			 zaddrs_cap;
};

/* A word of an enumerated value, e.g. "block" -> RULE_BLOCK. */
struct config_word {
	const char		*word;
	int			 value;
};

typedef void (*config_handler_fn)(struct config_ctx *, const char *,
    yaml_node_t *);

/* One row of a section: key name and the handler for its value. */
struct config_key {
	const char		*name;
	config_handler_fn	 fn;
};

static void	config_server(struct config_ctx *, const char *, yaml_node_t *);
static void	config_listen(struct config_ctx *, const char *, yaml_node_t *);
static void	config_threads(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_allow_clients(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_tcp(struct config_ctx *, const char *, yaml_node_t *);
static void	config_tcp_max_conn(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_tcp_idle(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_edns_size(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_resolver(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_mode(struct config_ctx *, const char *, yaml_node_t *);
static void	config_upstreams(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_timeout(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zones(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_item(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_name(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_forward(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_local(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_on_nxdomain(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_on_nodata(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_zone_fallback(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feeds(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_id(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_path(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_format(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_match(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_policy(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_policy_default(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_policy_redir(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_block_ttl(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_groups(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_group_name(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_group_priority(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_group_clients(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rules(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_name(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_priority(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_match(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_action(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_response(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_rule_redir(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_answer_ip(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_feed(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_tld(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_qtype(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_override(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_override_a(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_override_aaaa(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_override_cname(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_override_ttl(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log(struct config_ctx *, const char *, yaml_node_t *);
static void	config_cache(struct config_ctx *, const char *, yaml_node_t *);
static void	config_geo(struct config_ctx *, const char *, yaml_node_t *);
static void	config_geo_country(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_geo_asn(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_answer_country(struct config_ctx *,
		    const char *, yaml_node_t *);
static void	config_match_answer_asn(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_match_client_country(struct config_ctx *,
		    const char *, yaml_node_t *);
static void	config_cache_size(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_cache_min_ttl(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_cache_max_ttl(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_cache_neg_ttl(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_cache_stale(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_decisions(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_file(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_stdout(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_syslog(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_user(struct config_ctx *, const char *, yaml_node_t *);
static void	config_dnssec(struct config_ctx *, const char *, yaml_node_t *);
static void	config_root_hints(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_trust_anchors(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_qname_min(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_query_loopback(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_control(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_control_socket(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_metrics(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_metrics_listen(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_refresh(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_feed_shrink(struct config_ctx *, const char *,
		    yaml_node_t *);

static const struct config_key config_top_keys[] = {
	{ "server",		config_server },
	{ "resolver",		config_resolver },
	{ "zones",		config_zones },
	{ "feeds",		config_feeds },
	{ "policy",		config_policy },
	{ "log",		config_log },
	{ "cache",		config_cache },
	{ "geo",		config_geo },
	{ "control",		config_control },
	{ "metrics",		config_metrics },
	{ NULL,			NULL }
};

static const struct config_key config_control_keys[] = {
	{ "socket",		config_control_socket },
	{ NULL,			NULL }
};

static const struct config_key config_metrics_keys[] = {
	{ "listen",		config_metrics_listen },
	{ NULL,			NULL }
};

static const struct config_key config_server_keys[] = {
	{ "listen",		config_listen },
	{ "threads",		config_threads },
	{ "allow-clients",	config_allow_clients },
	{ "tcp",		config_tcp },
	{ "edns-buffer-size",	config_edns_size },
	{ "user",		config_user },
	{ NULL,			NULL }
};

static const struct config_key config_tcp_keys[] = {
	{ "max-connections",	config_tcp_max_conn },
	{ "idle-timeout",	config_tcp_idle },
	{ NULL,			NULL }
};

static const struct config_key config_resolver_keys[] = {
	{ "mode",		config_mode },
	{ "upstreams",		config_upstreams },
	{ "timeout",		config_timeout },
	{ "dnssec",		config_dnssec },
	{ "root-hints",		config_root_hints },
	{ "trust-anchors",	config_trust_anchors },
	{ "qname-minimisation",	config_qname_min },
	{ "query-loopback",	config_query_loopback },
	{ NULL,			NULL }
};

static const struct config_key config_cache_keys[] = {
	{ "size",		config_cache_size },
	{ "min-ttl",		config_cache_min_ttl },
	{ "max-ttl",		config_cache_max_ttl },
	{ "negative-max-ttl",	config_cache_neg_ttl },
	{ "serve-stale",	config_cache_stale },
	{ NULL,			NULL }
};

static const struct config_key config_geo_keys[] = {
	{ "country-db",		config_geo_country },
	{ "asn-db",		config_geo_asn },
	{ NULL,			NULL }
};

static const struct config_key config_zone_keys[] = {
	{ "name",		config_zone_name },
	{ "forward",		config_zone_forward },
	{ "local",		config_zone_local },
	{ "on-nxdomain",	config_zone_on_nxdomain },
	{ "on-nodata",		config_zone_on_nodata },
	{ "fallback",		config_zone_fallback },
	{ NULL,			NULL }
};

static const struct config_key config_feed_keys[] = {
	{ "id",			config_feed_id },
	{ "path",		config_feed_path },
	{ "format",		config_feed_format },
	{ "match",		config_feed_match },
	{ "refresh",		config_feed_refresh },
	{ "max-shrink",		config_feed_shrink },
	{ NULL,			NULL }
};

static const struct config_key config_policy_keys[] = {
	{ "default",		config_policy_default },
	{ "redirection",	config_policy_redir },
	{ "block-ttl",		config_block_ttl },
	{ "groups",		config_groups },
	{ NULL,			NULL }
};

static const struct config_key config_group_keys[] = {
	{ "name",		config_group_name },
	{ "priority",		config_group_priority },
	{ "clients",		config_group_clients },
	{ "rules",		config_rules },
	{ NULL,			NULL }
};

static const struct config_key config_rule_keys[] = {
	{ "name",		config_rule_name },
	{ "priority",		config_rule_priority },
	{ "match",		config_rule_match },
	{ "action",		config_rule_action },
	{ "response",		config_rule_response },
	{ "redirection",	config_rule_redir },
	{ NULL,			NULL }
};

static const struct config_key config_match_keys[] = {
	{ "feed",		config_match_feed },
	{ "tld",		config_match_tld },
	{ "qtype",		config_match_qtype },
	{ "answer-ip",		config_match_answer_ip },
	{ "answer-country",	config_match_answer_country },
	{ "answer-asn",		config_match_answer_asn },
	{ "client-country",	config_match_client_country },
	{ NULL,			NULL }
};

static const struct config_key config_response_keys[] = {
	{ "override",		config_override },
	{ NULL,			NULL }
};

static const struct config_key config_override_keys[] = {
	{ "a",			config_override_a },
	{ "aaaa",		config_override_aaaa },
	{ "cname",		config_override_cname },
	{ "ttl",		config_override_ttl },
	{ NULL,			NULL }
};

/* Keys a list item cannot do without. */
static const char *const config_zone_required[] = { "name", NULL };
static const char *const config_feed_required[] = { "id", "path", NULL };
static const char *const config_group_required[] = {
	"name", "priority", "rules", NULL
};
static const char *const config_rule_required[] = {
	"name", "priority", "match", "action", NULL
};
static const char *const config_response_required[] = { "override", NULL };

/* What a forward zone does with a NXDOMAIN or NODATA of its servers. */
static const struct config_word config_zone_ons[] = {
	{ "fallback",		1 },
	{ "answer",		0 },
	{ NULL,			0 }
};

static const struct config_word config_formats[] = {
	{ "auto",		FEED_AUTO },
	{ "plain",		FEED_PLAIN },
	{ "hosts",		FEED_HOSTS },
	{ "rpz",		FEED_RPZ },
	{ "adblock",		FEED_ADBLOCK },
	{ "ip",			FEED_IP },
	{ NULL,			0 }
};

static const struct config_word config_feed_matches[] = {
	{ "subdomains",		FEED_MATCH_SUBDOMAINS },
	{ "exact",		FEED_MATCH_EXACT },
	{ NULL,			0 }
};

static const struct config_word config_default_actions[] = {
	{ "allow",		RULE_ALLOW },
	{ "block",		RULE_BLOCK },
	{ NULL,			0 }
};

static const struct config_word config_actions[] = {
	{ "allow",		RULE_ALLOW },
	{ "block",		RULE_BLOCK },
	{ "alert",		RULE_ALERT },
	{ NULL,			0 }
};

static const struct config_word config_redirections[] = {
	{ "inspect",		REDIR_INSPECT },
	{ "trust",		REDIR_TRUST },
	{ NULL,			0 }
};

/* The scalar responses; override is a mapping. */
static const struct config_word config_responses[] = {
	{ "auto",		RESP_AUTO },
	{ "nxdomain",		RESP_NXDOMAIN },
	{ "nodata",		RESP_NODATA },
	{ "refused",		RESP_REFUSED },
	{ "drop",		RESP_DROP },
	{ NULL,			0 }
};

static const struct config_key config_log_keys[] = {
	{ "decisions",		config_decisions },
	{ NULL,			NULL }
};

static const struct config_key config_decisions_keys[] = {
	{ "file",		config_log_file },
	{ "stdout",		config_log_stdout },
	{ "syslog",		config_log_syslog },
	{ NULL,			NULL }
};

/* The default allow-clients list: private and loopback networks only. */
static const char *const config_default_clients[] = {
	"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
	"192.168.0.0/16", "fc00::/7", NULL
};

static const char *const config_default_listen[] = {
	"127.0.0.1:53", "[::1]:53", NULL
};

/*
 * Reporting
 */

static void
config_vreport(struct config_ctx *ctx, const yaml_mark_t *mark,
    const char *fmt, va_list ap)
{
	char	 msg[1024], line[1200];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (mark != NULL)
		snprintf(line, sizeof(line), "%s:%zu:%zu: %s", ctx->path,
		    mark->line + 1, mark->column + 1, msg);
	else
		snprintf(line, sizeof(line), "%s: %s", ctx->path, msg);
	ctx->report(ctx->arg, line);
	ctx->nerr++;
}

/* An error at node (NULL: the file as a whole, no line:col). */
static void __attribute__((format(printf, 3, 4)))
config_err(struct config_ctx *ctx, yaml_node_t *node, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	config_vreport(ctx, node ? &node->start_mark : NULL, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
config_err_mark(struct config_ctx *ctx, const yaml_mark_t *mark,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	config_vreport(ctx, mark, fmt, ap);
	va_end(ap);
}

/* An error at a remembered line and column (1-based). */
static void __attribute__((format(printf, 4, 5)))
config_err_at(struct config_ctx *ctx, int line, int col, const char *fmt,
    ...)
{
	yaml_mark_t	 mark;
	va_list		 ap;

	memset(&mark, 0, sizeof(mark));
	mark.line = line > 0 ? (size_t)line - 1 : 0;
	mark.column = col > 0 ? (size_t)col - 1 : 0;
	va_start(ap, fmt);
	config_vreport(ctx, &mark, fmt, ap);
	va_end(ap);
}

static const char *
config_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a string";
	}
}

/*
 * Node helpers: each reports its own error and returns NULL / -1.
 */

static const char *
config_scalar(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type != YAML_SCALAR_NODE) {
		config_err(ctx, node, "%s: expected a string, got %s", name,
		    config_kind(node));
		return NULL;
	}
	return (const char *)node->data.scalar.value;
}

static int
config_is_list(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type == YAML_SEQUENCE_NODE)
		return 1;
	config_err(ctx, node, "'%s' must be a list", name);
	return 0;
}

static int
config_is_map(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type == YAML_MAPPING_NODE)
		return 1;
	config_err(ctx, node, "'%s' must be a mapping", name);
	return 0;
}

/* A decimal integer in lo..hi, optionally negative (to say "out of range"). */
static int
config_int(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    long long lo, long long hi, long long *out)
{
	const char	*s, *p;
	long long	 v;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	p = (*s == '-') ? s + 1 : s;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p)) {
		config_err(ctx, node, "%s: '%s' is not an integer", name, s);
		return -1;
	}
	errno = 0;
	v = strtoll(s, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi) {
		config_err(ctx, node, "%s: %s is out of range (%lld..%lld)",
		    name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A duration in lo..hi ms; range is how the bounds read ("10ms..60s"). */
static int
config_duration(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    unsigned lo, unsigned hi, const char *range, unsigned *out)
{
	const char	*s, *why;
	unsigned	 ms;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	if (config_parse_duration_ms(s, &ms, &why) == -1) {
		config_err(ctx, node, "%s: bad duration '%s': %s", name, s,
		    why);
		return -1;
	}
	if (ms < lo || ms > hi) {
		config_err(ctx, node, "%s: %s is out of range (%s)", name, s,
		    range);
		return -1;
	}
	*out = ms;
	return 0;
}

/* YAML 1.1 booleans, which is what admins expect from "yes" and "off". */
static int
config_bool_word(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	size_t	 i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
config_bool(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    int *out)
{
	const char	*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	if (config_bool_word(s, out) == -1) {
		config_err(ctx, node, "%s: expected true or false, got '%s'",
		    name, s);
		return -1;
	}
	return 0;
}

/* "a, b or c": the words of an enumeration, for messages. */
static void
config_words(const struct config_word *words, char *buf, size_t sz)
{
	size_t	 i, n, off = 0;
	int	 len;

	for (n = 0; words[n].word != NULL; n++)
		;
	buf[0] = '\0';
	for (i = 0; i < n && off < sz; i++) {
		len = snprintf(buf + off, sz - off, "%s%s",
		    i == 0 ? "" : (i == n - 1 ? " or " : ", "), words[i].word);
		if (len < 0)
			break;
		off += (size_t)len;
	}
}

/* One of the words of an enumeration (case matters, as for every key). */
static int
config_enum(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    const struct config_word *words, int *out)
{
	const char	*s;
	char		 want[256];
	size_t		 i;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	for (i = 0; words[i].word != NULL; i++) {
		if (strcmp(s, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	config_words(words, want, sizeof(want));
	config_err(ctx, node, "%s: expected %s, got '%s'", name, want, s);
	return -1;
}

/*
 * A TTL in seconds, lo..hi (range is how the bounds read, "1s..1d").  A
 * bare number is seconds, as in zone files; with a unit it is a duration
 * that must come to whole seconds.
 */
static int
config_ttl(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    unsigned lo, unsigned hi, const char *range, uint32_t *out)
{
	const char		*s, *why;
	unsigned long long	 secs;
	unsigned		 ms;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		secs = strtoull(s, NULL, 10);
		if (errno == ERANGE)
			secs = ULLONG_MAX;
	} else if (config_parse_duration_ms(s, &ms, &why) == -1) {
		config_err(ctx, node, "%s: bad duration '%s': %s", name, s,
		    why);
		return -1;
	} else if (ms % 1000 != 0) {
		config_err(ctx, node, "%s: %s is not a whole number of seconds",
		    name, s);
		return -1;
	} else
		secs = ms / 1000;
	if (secs < lo || secs > hi) {
		config_err(ctx, node, "%s: %s is out of range (%s)", name, s,
		    range);
		return -1;
	}
	*out = (uint32_t)secs;
	return 0;
}

/* Number of items of a list node. */
static size_t
config_len(const yaml_node_t *node)
{
	return (size_t)(node->data.sequence.items.top -
	    node->data.sequence.items.start);
}

/* Item i of a list node, or NULL. */
static yaml_node_t *
config_item(struct config_ctx *ctx, yaml_node_t *node, size_t i)
{
	if (i >= config_len(node))
		return NULL;
	return yaml_document_get_node(ctx->doc,
	    node->data.sequence.items.start[i]);
}

/* Called for each string of a string-or-list value. */
typedef void (*config_string_fn)(struct config_ctx *, const char *,
    yaml_node_t *, const char *);

/*
 * A string or a non-empty list of strings (match conditions, override
 * addresses): the number of items, to size an array; 0 after reporting a
 * mapping or an empty list.
 */
static size_t
config_strings_len(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	if (node->type == YAML_SCALAR_NODE)
		return 1;
	if (node->type != YAML_SEQUENCE_NODE) {
		config_err(ctx, node, "%s: expected a string or a list, got %s",
		    name, config_kind(node));
		return 0;
	}
	if (config_len(node) == 0)
		config_err(ctx, node, "%s: empty list", name);
	return config_len(node);
}

/* Call fn for the string, or for each string of the list. */
static void
config_strings(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    config_string_fn fn)
{
	yaml_node_t	*item;
	const char	*s;
	size_t		 i;

	if (node->type == YAML_SCALAR_NODE) {
		fn(ctx, name, node, (const char *)node->data.scalar.value);
		return;
	}
	for (i = 0; i < config_len(node); i++) {
		if ((item = config_item(ctx, node, i)) != NULL &&
		    (s = config_scalar(ctx, name, item)) != NULL)
			fn(ctx, name, item, s);
	}
}

/*
 * Mappings
 */

static const struct config_key *
config_key_find(const struct config_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* 1 if a key before pair in the mapping has the same text. */
static int
config_key_seen(yaml_document_t *doc, yaml_node_t *map, yaml_node_pair_t *pair,
    const char *name)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	for (p = map->data.mapping.pairs.start; p < pair; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, name) == 0)
			return 1;
	}
	return 0;
}

/* The value of key in map, or NULL when the key is not there. */
static yaml_node_t *
config_get(struct config_ctx *ctx, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(ctx->doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(ctx->doc, p->value);
	}
	return NULL;
}

/* Report, at the mapping, each required key it lacks. */
static void
config_require(struct config_ctx *ctx, const char *name, yaml_node_t *map,
    const char *const *required)
{
	for (; *required != NULL; required++)
		if (config_get(ctx, map, *required) == NULL)
			config_err(ctx, map, "%s: missing key '%s'", name,
			    *required);
}

/* Check one key of the mapping at prefix (NULL: top level); 0 if usable. */
static int
config_key_check(struct config_ctx *ctx, const char *prefix, yaml_node_t *map,
    yaml_node_pair_t *pair, yaml_node_t *key, const struct config_key *keys)
{
	const char	*name;

	if (key->type != YAML_SCALAR_NODE) {
		config_err(ctx, key, "expected a string key, got %s",
		    config_kind(key));
		return -1;
	}
	name = (const char *)key->data.scalar.value;
	if (config_key_seen(ctx->doc, map, pair, name)) {
		if (prefix)
			config_err(ctx, key, "duplicate key '%s' in '%s'",
			    name, prefix);
		else
			config_err(ctx, key, "duplicate key '%s'", name);
		return -1;
	}
	if (config_key_find(keys, name) == NULL) {
		if (prefix)
			config_err(ctx, key, "unknown key '%s' in '%s'", name,
			    prefix);
		else
			config_err(ctx, key, "unknown key '%s'", name);
		return -1;
	}
	return 0;
}

/* Run the handler of each key of map; prefix is its dotted path. */
static void
config_map(struct config_ctx *ctx, const char *prefix, yaml_node_t *map,
    const struct config_key *keys)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*key, *val;
	const struct config_key	*k;
	char			 name[CONFIG_NAMELEN];

	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		key = yaml_document_get_node(ctx->doc, pair->key);
		val = yaml_document_get_node(ctx->doc, pair->value);
		if (key == NULL || val == NULL)
			continue;
		if (config_key_check(ctx, prefix, map, pair, key, keys) == -1)
			continue;
		k = config_key_find(keys, (const char *)key->data.scalar.value);
		if (prefix)
			snprintf(name, sizeof(name), "%s.%s", prefix, k->name);
		else
			snprintf(name, sizeof(name), "%s", k->name);
		k->fn(ctx, name, val);
	}
}

/* A section handler body: the value must be a mapping of the given keys. */
static void
config_section(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    const struct config_key *keys)
{
	if (config_is_map(ctx, name, node))
		config_map(ctx, name, node, keys);
}

static void
config_server(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_server_keys);
}

static void
config_tcp(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_tcp_keys);
}

static void
config_resolver(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_resolver_keys);
}

/* A file path into *out (replacing it); 0, or -1 after reporting. */
static int
config_path(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    char **out)
{
	const char	*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return -1;
	if (*s == '\0') {
		config_err(ctx, node, "%s: empty path", name);
		return -1;
	}
	free(*out);
	if ((*out = strdup(s)) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

/*
 * geo:
 */

static void
config_geo(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_geo_keys);
}

static void
config_geo_path(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    char **out, int *line, int *col)
{
	if (config_path(ctx, name, node, out) == -1)
		return;
	*line = (int)node->start_mark.line + 1;
	*col = (int)node->start_mark.column + 1;
}

static void
config_geo_country(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_geo_path(ctx, name, node, &ctx->cfg->geo_country_db,
	    &ctx->cfg->geo_country_line, &ctx->cfg->geo_country_col);
}

static void
config_geo_asn(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_geo_path(ctx, name, node, &ctx->cfg->geo_asn_db,
	    &ctx->cfg->geo_asn_line, &ctx->cfg->geo_asn_col);
}

/*
 * cache:
 */

static void
config_cache(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;
	int		 nerr = ctx->nerr;

	config_section(ctx, name, node, config_cache_keys);
	if (ctx->nerr == nerr && cfg->cache_min_ttl > cfg->cache_max_ttl)
		config_err(ctx, node, "%s: min-ttl (%u s) is above max-ttl "
		    "(%u s)", name, cfg->cache_min_ttl, cfg->cache_max_ttl);
}

/* "256MB", "64k", "1G", "1048576" (bytes); K, M, G are powers of 1024. */
int
config_parse_size(const char *text, size_t *bytes, const char **why)
{
	unsigned long long	 v, mult = 1;
	char			*end;

	if (*text < '0' || *text > '9') {
		*why = "expected a number with an optional unit (k, MB, G)";
		return -1;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE) {
		*why = "too large";
		return -1;
	}
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		break;
	default:
		*why = "unknown unit (use k, MB or G)";
		return -1;
	}
	if (*end != '\0') {
		end++;
		if (strcmp(end, "B") == 0 || strcmp(end, "b") == 0 ||
		    strcmp(end, "iB") == 0)
			end += strlen(end);
		if (*end != '\0') {
			*why = "unknown unit (use k, MB or G)";
			return -1;
		}
	}
	if (v > (unsigned long long)SIZE_MAX / mult) {
		*why = "too large";
		return -1;
	}
	*bytes = (size_t)(v * mult);
	return 0;
}

static void
config_cache_size(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*s, *why;
	size_t		 v;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, "off") == 0) {
		ctx->cfg->cache_size = 0;
		return;
	}
	if (config_parse_size(s, &v, &why) == -1) {
		config_err(ctx, node, "%s: bad size '%s': %s", name, s, why);
		return;
	}
	if (v != 0 && v < CONFIG_CACHE_MIN) {
		config_err(ctx, node, "%s: %s is too small (at least 64k; 0 or "
		    "off turns the cache off)", name, s);
		return;
	}
	if ((unsigned long long)v > CONFIG_CACHE_MAX) {
		config_err(ctx, node, "%s: %s is too large (at most 1024G)",
		    name, s);
		return;
	}
	ctx->cfg->cache_size = v;
}

static void
config_cache_min_ttl(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_ttl(ctx, name, node, 0, 86400, "0..1d",
	    &ctx->cfg->cache_min_ttl);
}

static void
config_cache_max_ttl(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_ttl(ctx, name, node, 1, 7 * 86400, "1s..7d",
	    &ctx->cfg->cache_max_ttl);
}

static void
config_cache_neg_ttl(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_ttl(ctx, name, node, 0, 86400, "0..1d",
	    &ctx->cfg->cache_negative_max_ttl);
}

static void
config_cache_stale(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)node->data.scalar.value, "off") == 0) {
		ctx->cfg->cache_serve_stale = 0;
		return;
	}
	config_ttl(ctx, name, node, 1, 7 * 86400, "1s..7d, or off",
	    &ctx->cfg->cache_serve_stale);
}

static void
config_log(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_log_keys);
}

/*
 * server:
 */

/* Copy what the operator wrote; every valid spelling fits (see addr.c). */
static void
config_addr_set(struct config_addr *ca, const struct addr *a, const char *text)
{
	ca->addr = *a;
	snprintf(ca->text, sizeof(ca->text), "%s", text);
}

static void
config_listen_item(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	struct config	*cfg = ctx->cfg;
	struct addr	 a;
	const char	*s, *why;
	size_t		 i;

	if ((s = config_scalar(ctx, name, item)) == NULL)
		return;
	if (addr_parse(s, CONFIG_DNS_PORT, &a, &why) == -1) {
		config_err(ctx, item, "%s: bad address '%s': %s", name, s, why);
		return;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		if (addr_equal((struct sockaddr *)&cfg->listen[i].addr.ss,
		    (struct sockaddr *)&a.ss)) {
			config_err(ctx, item, "%s: duplicate address '%s'",
			    name, s);
			return;
		}
	}
	config_addr_set(&cfg->listen[cfg->nlisten++], &a, s);
}

static void
config_listen(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;

	if (!config_is_list(ctx, name, node))
		return;
	ctx->cfg->nlisten = 0;
	if (node->data.sequence.items.start == node->data.sequence.items.top)
		config_err(ctx, node, "%s: at least one address is required",
		    name);
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(ctx->doc, *it)) == NULL)
			continue;
		if (ctx->cfg->nlisten == CONFIG_MAX_LISTEN) {
			config_err(ctx, item, "%s: more than %d addresses",
			    name, CONFIG_MAX_LISTEN);
			break;
		}
		config_listen_item(ctx, name, item);
	}
}

/* A user name; whether it exists is checked when dnsward starts as root. */
static void
config_user(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (*s == '\0' || strlen(s) > 64 || strchr(s, ':') != NULL ||
	    strchr(s, '/') != NULL) {
		config_err(ctx, node, "%s: bad user name '%s'", name, s);
		return;
	}
	free(ctx->cfg->user);
	if ((ctx->cfg->user = strdup(s)) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	ctx->cfg->user_set = 1;
	ctx->cfg->user_line = (int)node->start_mark.line + 1;
	ctx->cfg->user_col = (int)node->start_mark.column + 1;
}

static void
config_threads(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*s;
	long long	 v;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, "auto") == 0) {
		ctx->cfg->threads = 0;
		return;
	}
	if (config_int(ctx, name, node, 1, 256, &v) == 0)
		ctx->cfg->threads = (unsigned)v;
}

/*
 * A list of networks into a new ACL (server.allow-clients, a group's
 * clients).  Bad items are reported and left out; NULL when the value is
 * no list or memory ran out.
 */
static struct acl *
config_acl(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	yaml_node_t	*item;
	struct acl	*acl;
	struct acl_net	 net;
	const char	*s, *why;
	size_t		 i;

	if (!config_is_list(ctx, name, node))
		return NULL;
	if ((acl = acl_new()) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return NULL;
	}
	for (i = 0; i < config_len(node); i++) {
		if ((item = config_item(ctx, node, i)) == NULL ||
		    (s = config_scalar(ctx, name, item)) == NULL)
			continue;
		if (acl_net_parse(s, &net, &why) == -1)
			config_err(ctx, item, "%s: bad network '%s': %s", name,
			    s, why);
		else if (acl_add(acl, &net) == -1)
			config_err(ctx, item, "%s: out of memory", name);
	}
	return acl;
}

/* The list replaces the default one entirely. */
static void
config_allow_clients(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct acl	*acl;

	if ((acl = config_acl(ctx, name, node)) == NULL)
		return;
	acl_free(ctx->cfg->allow_clients);
	ctx->cfg->allow_clients = acl;
}

static void
config_tcp_max_conn(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	long long	 v;

	if (config_int(ctx, name, node, 1, 1000000, &v) == 0)
		ctx->cfg->tcp_max_connections = (unsigned)v;
}

static void
config_tcp_idle(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_duration(ctx, name, node, 100, 3600 * 1000, "100ms..1h",
	    &ctx->cfg->tcp_idle_timeout_ms);
}

static void
config_edns_size(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	long long	 v;

	if (config_int(ctx, name, node, 512, 4096, &v) == 0)
		ctx->cfg->edns_buffer_size = (uint16_t)v;
}

/*
 * resolver:
 */

static void
config_mode(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, "forward") == 0)
		ctx->cfg->mode = RESOLVER_FORWARD;
	else if (strcmp(s, "recurse") == 0)
		ctx->cfg->mode = RESOLVER_RECURSE;
	else
		config_err(ctx, node,
		    "%s: expected 'forward' or 'recurse', got '%s'", name, s);
}

/*
 * Add one upstream, remembering the node it came from (NULL: the default).
 * Returns -1, with the error reported, when the list is full.
 */
static int
config_upstream_add(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const struct addr *a, const char *text)
{
	struct config	*cfg = ctx->cfg;

	if (cfg->nupstreams == CONFIG_MAX_UPSTREAMS) {
		config_err(ctx, node, "%s: more than %d upstreams", name,
		    CONFIG_MAX_UPSTREAMS);
		ctx->upstreams_full = 1;
		return -1;
	}
	ctx->upstream_node[cfg->nupstreams] = node;
	config_addr_set(&cfg->upstreams[cfg->nupstreams++], a, text);
	return 0;
}

/*
 * The address of a resolv.conf "nameserver" line, as the C library reads
 * it: a bare IPv4 or IPv6 literal, port 53.  A scoped IPv6 address
 * ("fe80::1%eth0") is skipped rather than resolved: the interface index
 * depends on the host at load time, link-local upstreams are rare, and
 * skipping it cannot turn a valid resolv.conf into a config error unless no
 * other nameserver is left.  Anything else unparsable is skipped likewise
 * (the C library ignores it too).
 */
static int
config_resolv_addr(const char *tok, struct addr *a)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	const char	*why;

	if (inet_pton(AF_INET, tok, buf) != 1 &&
	    inet_pton(AF_INET6, tok, buf) != 1)
		return -1;
	return addr_parse(tok, CONFIG_DNS_PORT, a, &why);
}

/* The address token of a "nameserver ADDR" line, or NULL. */
static char *
config_resolv_line(char *line)
{
	char	*word, *save;

	line[strcspn(line, "#;\n")] = '\0';
	if ((word = strtok_r(line, " \t\r", &save)) == NULL ||
	    strcmp(word, "nameserver") != 0)
		return NULL;
	return strtok_r(NULL, " \t\r", &save);
}

/*
 * Expand "system": every usable nameserver of the resolv.conf file.  node
 * is the "system" item (NULL when it is the default).  Returns the number
 * of upstreams added, -1 after reporting an error.
 */
static int
config_system(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*path = ctx->resolv_conf ? ctx->resolv_conf :
			    CONFIG_RESOLV_CONF;
	FILE		*fp;
	char		 line[1024], *tok;
	struct addr	 a;
	int		 n = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		config_err(ctx, node, "%s: 'system': cannot open %s: %s", name,
		    path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((tok = config_resolv_line(line)) == NULL ||
		    config_resolv_addr(tok, &a) == -1)
			continue;
		if (config_upstream_add(ctx, name, node, &a, tok) == -1) {
			n = -1;
			break;
		}
		n++;
	}
	fclose(fp);
	if (n == 0) {
		config_err(ctx, node, "%s: 'system': no usable nameserver in %s",
		    name, path);
		return -1;
	}
	return n;
}

static void
config_upstream_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *item)
{
	struct addr	 a;
	const char	*s, *why;

	if ((s = config_scalar(ctx, name, item)) == NULL)
		return;
	if (strcmp(s, "system") == 0)
		config_system(ctx, name, item);
	else if (addr_parse(s, CONFIG_DNS_PORT, &a, &why) == -1)
		config_err(ctx, item, "%s: bad address '%s': %s", name, s, why);
	else
		config_upstream_add(ctx, name, item, &a, s);
}

static void
config_upstreams(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;

	/* Set even when malformed, so "system" is not expanded as well. */
	ctx->upstreams_set = 1;
	if (!config_is_list(ctx, name, node))
		return;
	ctx->cfg->nupstreams = 0;
	if (node->data.sequence.items.start == node->data.sequence.items.top)
		config_err(ctx, node, "%s: at least one upstream is required",
		    name);
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(ctx->doc, *it)) == NULL)
			continue;
		config_upstream_item(ctx, name, item);
		/* A full list is reported once, not once per extra item. */
		if (ctx->upstreams_full)
			break;
	}
}

static void
config_timeout(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_duration(ctx, name, node, 10, 60 * 1000, "10ms..60s",
	    &ctx->cfg->timeout_ms);
}

static const struct config_word config_dnssec_words[] = {
	{ "validate",		1 },
	{ "off",		0 },
	{ NULL,			0 }
};

static void
config_dnssec(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_dnssec_words, &v) == 0)
		ctx->cfg->dnssec = v;
}

static void
config_root_hints(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	free(ctx->cfg->root_hints);
	ctx->cfg->root_hints = NULL;
	if (config_path(ctx, name, node, &ctx->cfg->root_hints) == -1)
		return;
	ctx->cfg->root_hints_line = (int)node->start_mark.line + 1;
	ctx->cfg->root_hints_col = (int)node->start_mark.column + 1;
}

/* Has the text a DS or DNSKEY type word (any case, any blanks)? */
static int
config_ta_record(const char *s)
{
	size_t	 n;

	while (*s != '\0') {
		s += strspn(s, " \t");
		n = strcspn(s, " \t");
		if ((n == 2 && strncasecmp(s, "DS", 2) == 0) ||
		    (n == 6 && strncasecmp(s, "DNSKEY", 6) == 0))
			return 1;
		s += n;
	}
	return 0;
}

/* A file path (absolute), or a DS/DNSKEY record written inline. */
static void
config_trust_anchor_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *item)
{
	struct config	*cfg = ctx->cfg;
	struct config_ta *ta;
	const char	*s;

	if ((s = config_scalar(ctx, name, item)) == NULL)
		return;
	if (*s == '\0') {
		config_err(ctx, item, "%s: empty trust anchor", name);
		return;
	}
	if (*s != '/' && !config_ta_record(s)) {
		config_err(ctx, item, "%s: '%s' is neither an absolute file "
		    "path nor a DS or DNSKEY record", name, s);
		return;
	}
	ta = &cfg->trust_anchors[cfg->ntrust_anchors];
	if ((ta->text = strdup(s)) == NULL) {
		config_err(ctx, item, "%s: out of memory", name);
		return;
	}
	ta->is_file = *s == '/';
	ta->line = (int)item->start_mark.line + 1;
	ta->col = (int)item->start_mark.column + 1;
	cfg->ntrust_anchors++;
}

static void
config_trust_anchors(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct config		*cfg = ctx->cfg;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	size_t			 i;

	if (!config_is_list(ctx, name, node))
		return;
	for (i = 0; i < cfg->ntrust_anchors; i++)
		free(cfg->trust_anchors[i].text);
	cfg->ntrust_anchors = 0;
	if (config_len(node) == 0) {
		config_err(ctx, node, "%s: at least one trust anchor is "
		    "required (or dnssec: off)", name);
		return;
	}
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(ctx->doc, *it)) == NULL)
			continue;
		if (cfg->ntrust_anchors == CONFIG_MAX_TA) {
			config_err(ctx, item, "%s: more than %d trust anchors",
			    name, CONFIG_MAX_TA);
			break;
		}
		config_trust_anchor_item(ctx, name, item);
	}
}

static void
config_qname_min(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_bool(ctx, name, node, &ctx->cfg->qname_min);
}

static void
config_query_loopback(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_bool(ctx, name, node, &ctx->cfg->query_loopback);
}

/*
 * feeds:
 */

/* A feed id: what rules and decision records name the feed by. */
static int
config_id_ok(const char *s)
{
	return *s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

typedef void (*config_item_fn)(struct config_ctx *, const char *,
    yaml_node_t *);

/*
 * Lists of mappings (feeds, groups, rules): the array is allocated at the
 * list's length before any item is read, so that items can look back at
 * the ones before them (uniqueness) and pointers into it stay valid.
 */
static void *
config_list_alloc(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    size_t size)
{
	void	*a;

	if ((a = calloc(config_len(node), size)) == NULL)
		config_err(ctx, node, "%s: out of memory", name);
	return a;
}

/* Hand each mapping of the list to fn, as "name[i]". */
static void
config_list_each(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    config_item_fn fn)
{
	yaml_node_t	*item;
	char		 iname[CONFIG_NAMELEN];
	size_t		 i;

	for (i = 0; i < config_len(node); i++) {
		if ((item = config_item(ctx, node, i)) == NULL)
			continue;
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		if (config_is_map(ctx, iname, item))
			fn(ctx, iname, item);
	}
}

static void
config_feed_item(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	struct config	*cfg = ctx->cfg;

	ctx->feed = &cfg->feeds[cfg->nfeeds++];
	ctx->feed->line = (int)item->start_mark.line + 1;
	ctx->feed->max_shrink = CONFIG_DEFAULT_MAX_SHRINK;
	ctx->feed->col = (int)item->start_mark.column + 1;
	config_map(ctx, name, item, config_feed_keys);
	config_require(ctx, name, item, config_feed_required);
	ctx->feed = NULL;
}

/* Feeds are only declared here; the feed loader opens the files. */
static void
config_feeds(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;

	if (!config_is_list(ctx, name, node) || config_len(node) == 0)
		return;
	if (config_len(node) > CONFIG_MAX_FEEDS) {
		config_err(ctx, node, "%s: more than %d feeds", name,
		    CONFIG_MAX_FEEDS);
		return;
	}
	if ((cfg->feeds = config_list_alloc(ctx, name, node,
	    sizeof(*cfg->feeds))) != NULL)
		config_list_each(ctx, name, node, config_feed_item);
}

static void
config_feed_id(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;
	const char	*s;
	size_t		 i;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (!config_id_ok(s)) {
		config_err(ctx, node, "%s: bad id '%s': only letters, digits, "
		    "'_', '.' and '-'", name, s);
		return;
	}
	for (i = 0; &cfg->feeds[i] < ctx->feed; i++) {
		if (cfg->feeds[i].id != NULL &&
		    strcmp(cfg->feeds[i].id, s) == 0) {
			config_err(ctx, node, "%s: duplicate feed id '%s'",
			    name, s);
			return;
		}
	}
	if ((ctx->feed->id = strdup(s)) == NULL)
		config_err(ctx, node, "%s: out of memory", name);
}

static void
config_feed_path(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_path(ctx, name, node, &ctx->feed->path);
}

static void
config_feed_format(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_formats, &v) == 0)
		ctx->feed->format = (enum feed_format)v;
}

static void
config_feed_match(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_feed_matches, &v) == 0)
		ctx->feed->match = (enum feed_match)v;
}

/* "5m", "1h"; "off" (0): only a reload reads the feed again. */
static void
config_feed_refresh(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	if (node->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)node->data.scalar.value, "off") == 0) {
		ctx->feed->refresh_ms = 0;
		return;
	}
	config_duration(ctx, name, node, 1000, 7 * 24 * 3600 * 1000,
	    "1s..7d, or off", &ctx->feed->refresh_ms);
}

/* "50%", "0%" (any loss refused) .. "100%" / "off" (no guard). */
static void
config_feed_shrink(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, "off") == 0) {
		ctx->feed->max_shrink = 100;
		return;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *s < '0' || *s > '9' || strcmp(end, "%") != 0 ||
	    errno == ERANGE || v > 100) {
		config_err(ctx, node, "%s: '%s' is not a share: expected 0%%.."
		    "100%% (or off)", name, s);
		return;
	}
	ctx->feed->max_shrink = (unsigned)v;
}

/*
 * control: and metrics:
 */

static void
config_control(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)node->data.scalar.value, "off") == 0) {
		free(ctx->cfg->control_socket);
		ctx->cfg->control_socket = NULL;
		return;
	}
	config_section(ctx, name, node, config_control_keys);
}

static void
config_control_socket(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct sockaddr_un	 sun;
	const char		*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	free(ctx->cfg->control_socket);
	ctx->cfg->control_socket = NULL;
	if (strcmp(s, "off") == 0)
		return;
	if (*s != '/') {
		config_err(ctx, node, "%s: '%s' is not an absolute path", name,
		    s);
		return;
	}
	if (strlen(s) >= sizeof(sun.sun_path)) {
		config_err(ctx, node, "%s: path longer than %zu bytes", name,
		    sizeof(sun.sun_path) - 1);
		return;
	}
	if ((ctx->cfg->control_socket = strdup(s)) == NULL)
		config_err(ctx, node, "%s: out of memory", name);
}

static void
config_metrics(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (node->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)node->data.scalar.value, "off") == 0) {
		ctx->cfg->has_metrics = 0;
		return;
	}
	config_section(ctx, name, node, config_metrics_keys);
}

static void
config_metrics_listen(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct addr	 a;
	const char	*s, *why;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, "off") == 0) {
		ctx->cfg->has_metrics = 0;
		return;
	}
	if (addr_parse(s, CONFIG_METRICS_PORT, &a, &why) == -1) {
		config_err(ctx, node, "%s: bad address '%s': %s", name, s, why);
		return;
	}
	config_addr_set(&ctx->cfg->metrics_listen, &a, s);
	ctx->cfg->has_metrics = 1;
}

/*
 * policy:
 */

static void
config_policy(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_section(ctx, name, node, config_policy_keys);
}

static void
config_policy_default(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_default_actions, &v) == 0)
		ctx->cfg->policy_default = (enum rule_action)v;
}

static void
config_policy_redir(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_redirections, &v) == 0)
		ctx->cfg->redirection = (enum redirection)v;
}

static void
config_block_ttl(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_ttl(ctx, name, node, 1, 86400, "1s..1d", &ctx->cfg->block_ttl);
}

/* A group or rule priority: 0..1000000, lower applies first. */
static int
config_priority(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    int *out)
{
	long long	 v;

	if (config_int(ctx, name, node, 0, 1000000, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * policy.groups:
 */

static void
config_group_item(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	struct config_group	*g;

	g = &ctx->cfg->groups[ctx->cfg->ngroups++];
	g->priority = -1;		/* not given (yet) */
	g->line = (int)item->start_mark.line + 1;
	g->col = (int)item->start_mark.column + 1;
	ctx->group = g;
	config_map(ctx, name, item, config_group_keys);
	config_require(ctx, name, item, config_group_required);
	ctx->group = NULL;
}

static void
config_groups(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;

	if (!config_is_list(ctx, name, node) || config_len(node) == 0)
		return;
	if ((cfg->groups = config_list_alloc(ctx, name, node,
	    sizeof(*cfg->groups))) != NULL)
		config_list_each(ctx, name, node, config_group_item);
}

/*
 * Names and priorities of groups (and of rules within a group) must be
 * unique: items[0..n) are the ones already read, each stride bytes apart
 * with its name and priority at the given offsets.  what names the kind
 * ("group", "rule") and list the path used for an unnamed item.
 */
static const char *
config_item_name(const void *items, size_t i, size_t stride, size_t nameoff)
{
	return *(char *const *)((const char *)items + i * stride + nameoff);
}

static void
config_unique_name(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    const char *what, const void *items, size_t n, size_t stride,
    size_t nameoff, char **dst)
{
	const char	*s, *other;
	size_t		 i;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (*s == '\0') {
		config_err(ctx, node, "%s: empty name", name);
		return;
	}
	for (i = 0; i < n; i++) {
		other = config_item_name(items, i, stride, nameoff);
		if (other != NULL && strcmp(other, s) == 0) {
			config_err(ctx, node, "%s: duplicate %s name '%s'",
			    name, what, s);
			return;
		}
	}
	if ((*dst = strdup(s)) == NULL)
		config_err(ctx, node, "%s: out of memory", name);
}

static void
config_unique_priority(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *what, const char *list, const void *items,
    size_t n, size_t stride, size_t nameoff, size_t prioff, int *dst)
{
	const char	*other;
	int		 prio;
	size_t		 i;

	if (config_priority(ctx, name, node, &prio) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (*(const int *)((const char *)items + i * stride +
		    prioff) != prio)
			continue;
		if ((other = config_item_name(items, i, stride, nameoff)) != NULL)
			config_err(ctx, node, "%s: %d is already used by "
			    "%s '%s'", name, prio, what, other);
		else
			config_err(ctx, node, "%s: %d is already used by "
			    "%s[%zu]", name, prio, list, i);
		return;
	}
	*dst = prio;
}

static void
config_group_name(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_unique_name(ctx, name, node, "group", ctx->cfg->groups,
	    (size_t)(ctx->group - ctx->cfg->groups), sizeof(*ctx->group),
	    offsetof(struct config_group, name), &ctx->group->name);
}

/* Two groups at one priority would apply in no defined order. */
static void
config_group_priority(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_unique_priority(ctx, name, node, "group", "policy.groups",
	    ctx->cfg->groups, (size_t)(ctx->group - ctx->cfg->groups),
	    sizeof(*ctx->group), offsetof(struct config_group, name),
	    offsetof(struct config_group, priority), &ctx->group->priority);
}

/* A scope that matches nobody is a mistake, never a way to disable. */
static void
config_group_clients(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct acl	*acl;

	if ((acl = config_acl(ctx, name, node)) == NULL)
		return;
	if (config_len(node) == 0)
		config_err(ctx, node, "%s: an empty list matches no client "
		    "(leave clients out to match every client)", name);
	ctx->group->clients = acl;
}

/*
 * policy.groups[].rules:
 */

static void
config_rule_item(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	struct config_group	*g = ctx->group;
	struct config_rule	*r;

	r = &g->rules[g->nrules++];
	r->priority = -1;		/* not given (yet) */
	r->response = RESP_AUTO;
	r->redirection = REDIR_DEFAULT;
	r->override.ttl = 60;
	r->line = (int)item->start_mark.line + 1;
	r->col = (int)item->start_mark.column + 1;
	ctx->rule = r;
	ctx->action_ok = 0;
	ctx->response = NULL;
	config_map(ctx, name, item, config_rule_keys);
	config_require(ctx, name, item, config_rule_required);
	if (ctx->response != NULL && ctx->action_ok &&
	    r->action != RULE_BLOCK)
		config_err(ctx, ctx->response, "%s.response: only a block "
		    "rule has a response", name);
	ctx->rule = NULL;
}

static void
config_rules(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config_group	*g = ctx->group;

	if (!config_is_list(ctx, name, node))
		return;
	if (config_len(node) == 0) {
		config_err(ctx, node, "%s: at least one rule is required",
		    name);
		return;
	}
	if ((g->rules = config_list_alloc(ctx, name, node,
	    sizeof(*g->rules))) != NULL)
		config_list_each(ctx, name, node, config_rule_item);
}

static void
config_rule_name(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_unique_name(ctx, name, node, "rule", ctx->group->rules,
	    (size_t)(ctx->rule - ctx->group->rules), sizeof(*ctx->rule),
	    offsetof(struct config_rule, name), &ctx->rule->name);
}

static void
config_rule_priority(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_unique_priority(ctx, name, node, "rule", "rules",
	    ctx->group->rules, (size_t)(ctx->rule - ctx->group->rules),
	    sizeof(*ctx->rule), offsetof(struct config_rule, name),
	    offsetof(struct config_rule, priority), &ctx->rule->priority);
}

/* Conditions are ANDed; a rule without one would match every query. */
static void
config_rule_match(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (!config_is_map(ctx, name, node))
		return;
	if (node->data.mapping.pairs.start == node->data.mapping.pairs.top) {
		config_err(ctx, node, "%s: at least one condition is required "
		    "(feed, tld, qtype, answer-ip, answer-country, answer-asn "
		    "or client-country)", name);
		return;
	}
	config_map(ctx, name, node, config_match_keys);
}

static void
config_rule_action(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_actions, &v) == 0) {
		ctx->rule->action = (enum rule_action)v;
		ctx->action_ok = 1;
	}
}

/*
 * A word (nxdomain, ...) or { override: {...} }.  Whether the rule blocks
 * at all is checked once the whole rule is read (keys come in any order).
 */
static void
config_rule_response(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	const char	*s;
	int		 v;

	ctx->response = node;
	if (node->type == YAML_MAPPING_NODE) {
		config_map(ctx, name, node, config_response_keys);
		config_require(ctx, name, node, config_response_required);
		return;
	}
	if (node->type != YAML_SCALAR_NODE) {
		config_err(ctx, node, "%s: expected a string or a mapping, "
		    "got %s", name, config_kind(node));
		return;
	}
	s = (const char *)node->data.scalar.value;
	if (strcmp(s, "override") == 0)
		config_err(ctx, node, "%s: override takes a mapping, e.g. "
		    "{ override: { a: 192.0.2.1 } }", name);
	else if (config_enum(ctx, name, node, config_responses, &v) == 0)
		ctx->rule->response = (enum block_response)v;
}

static void
config_rule_redir(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	int	 v;

	if (config_enum(ctx, name, node, config_redirections, &v) == 0)
		ctx->rule->redirection = (enum redirection)v;
}

/*
 * policy.groups[].rules[].match:
 */

/* Remember where the index of the feed named by node goes. */
static void
config_match_feed_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_rule	*r = ctx->rule;
	struct config_ref	*refs;
	size_t			 cap;

	if (ctx->nrefs == ctx->refs_cap) {
		cap = ctx->refs_cap ? ctx->refs_cap * 2 : 16;
		if ((refs = reallocarray(ctx->refs, cap, sizeof(*refs))) ==
		    NULL) {
			config_err(ctx, node, "%s: out of memory", name);
			return;
		}
		ctx->refs = refs;
		ctx->refs_cap = cap;
	}
	if (ctx->ipref)
		ctx->refs[ctx->nrefs].slot = &r->ipfeeds[r->nipfeeds++];
	else
		ctx->refs[ctx->nrefs].slot = &r->feeds[r->nfeeds++];
	ctx->refs[ctx->nrefs].ip = ctx->ipref;
	ctx->refs[ctx->nrefs].id = s;
	ctx->refs[ctx->nrefs].node = node;
	snprintf(ctx->refs[ctx->nrefs].name, sizeof(ctx->refs[0].name), "%s",
	    name);
	ctx->nrefs++;
}

/* A feed id or a list of them, for feed: (ip 0) or answer-ip: (ip 1). */
static void
config_feed_refs(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    int ip)
{
	size_t	**slots = ip ? &ctx->rule->ipfeeds : &ctx->rule->feeds;
	size_t	 n;

	if ((n = config_strings_len(ctx, name, node)) == 0)
		return;
	if ((*slots = calloc(n, sizeof(**slots))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	ctx->ipref = ip;
	config_strings(ctx, name, node, config_match_feed_item);
	ctx->ipref = 0;
}

static void
config_match_feed(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_feed_refs(ctx, name, node, 0);
}

/* An ISO 3166 code (any case) or "unknown" into cc ("??" for unknown). */
static int
config_cc(const char *s, char cc[3])
{
	if (!geo_valid_cc(s))
		return -1;
	if (strcasecmp(s, "unknown") == 0) {
		memcpy(cc, "??", 3);
		return 0;
	}
	cc[0] = (char)toupper((unsigned char)s[0]);
	cc[1] = (char)toupper((unsigned char)s[1]);
	cc[2] = '\0';
	return 0;
}

static void
config_country_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_rule	*r = ctx->rule;
	char			(*list)[3] = ctx->ccclient ?
				    r->client_countries : r->countries;
	size_t			*n = ctx->ccclient ? &r->nclient_countries :
				    &r->ncountries;

	if (config_cc(s, list[*n]) == -1) {
		config_err(ctx, node, "%s: '%s' is not a two-letter country "
		    "code (ISO 3166-1 alpha-2) or unknown", name, s);
		return;
	}
	(*n)++;
}

static void
config_countries(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    int client)
{
	size_t	 n;
	char	 (*list)[3];

	if ((n = config_strings_len(ctx, name, node)) == 0)
		return;
	if ((list = calloc(n, sizeof(*list))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	if (client) {
		free(ctx->rule->client_countries);
		ctx->rule->client_countries = list;
	} else {
		free(ctx->rule->countries);
		ctx->rule->countries = list;
	}
	ctx->ccclient = client;
	config_strings(ctx, name, node, config_country_item);
	ctx->ccclient = 0;
}

/* answer-country: [CC...]: a country of an answer address (or unknown). */
static void
config_match_answer_country(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_countries(ctx, name, node, 0);
}

/* client-country: [CC...]: where the client's address is registered. */
static void
config_match_client_country(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_countries(ctx, name, node, 1);
}

static void
config_asn_item(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    const char *s)
{
	struct config_rule	*r = ctx->rule;
	unsigned long long	 v;
	const char		*d = s;

	if (strncasecmp(d, "AS", 2) == 0)
		d += 2;
	errno = 0;
	v = strtoull(d, NULL, 10);
	if (*d == '\0' || strspn(d, "0123456789") != strlen(d) ||
	    errno == ERANGE || v == 0 || v > UINT32_MAX) {
		config_err(ctx, node, "%s: '%s' is not an AS number "
		    "(1..4294967295, or AS64500)", name, s);
		return;
	}
	r->asns[r->nasns++] = (uint32_t)v;
}

/* answer-asn: [N...]: the AS of an answer address. */
static void
config_match_answer_asn(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	size_t	 n;

	if ((n = config_strings_len(ctx, name, node)) == 0)
		return;
	if ((ctx->rule->asns = calloc(n, sizeof(*ctx->rule->asns))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	config_strings(ctx, name, node, config_asn_item);
}

/* answer-ip: FEED or [FEED...]: feeds of addresses (format ip, or rpz). */
static void
config_match_answer_ip(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_feed_refs(ctx, name, node, 1);
}

/*
 * One TLD label in place, lower-cased: letters, digits and inner hyphens;
 * "--" at positions 3-4 only in an A-label ("xn--"), so an IDN TLD must
 * be written in its ASCII form.
 */
static int
config_tld_ok(char *label, const char **why)
{
	size_t	 i, len = strlen(label);

	for (i = 0; i < len; i++)
		label[i] = (char)tolower((unsigned char)label[i]);
	if (len == 0)
		*why = "empty label";
	else if (strchr(label, '.') != NULL)
		*why = "more than one label";
	else if (len > 63)
		*why = "longer than 63 characters";
	else if (strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
		*why = "only letters, digits and '-' (an IDN TLD in its "
		    "xn-- form)";
	else if (label[0] == '-' || label[len - 1] == '-')
		*why = "starts or ends with '-'";
	else if (len >= 4 && label[2] == '-' && label[3] == '-' &&
	    strncmp(label, "xn", 2) != 0)
		*why = "'--' at positions 3-4 is only for xn-- labels";
	else
		return 0;
	return -1;
}

static void
config_match_tld_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_rule	*r = ctx->rule;
	const char		*why;
	char			*tld;

	if ((tld = strdup(*s == '.' ? s + 1 : s)) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	if (config_tld_ok(tld, &why) == -1) {
		config_err(ctx, node, "%s: bad TLD '%s': %s", name, s, why);
		free(tld);
		return;
	}
	r->tlds[r->ntlds++] = tld;
}

static void
config_match_tld(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	size_t	 n;

	if ((n = config_strings_len(ctx, name, node)) == 0)
		return;
	if ((ctx->rule->tlds = calloc(n, sizeof(*ctx->rule->tlds))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	config_strings(ctx, name, node, config_match_tld_item);
}

/*
 * A type name (any case) or RFC 3597 "TYPEnnn".  ldns would take
 * "TYPE99999" or "TYPE1x" as well, so that form is read here.
 */
static int
config_qtype_parse(const char *s, uint16_t *out)
{
	const char	*n;
	unsigned long	 v;

	if (strncasecmp(s, "TYPE", 4) == 0) {
		n = s + 4;
		if (*n == '\0' || strlen(n) > 5 ||
		    strspn(n, "0123456789") != strlen(n))
			return -1;
		v = strtoul(n, NULL, 10);
		if (v == 0 || v > 65535)
			return -1;
		*out = (uint16_t)v;
		return 0;
	}
	if ((*out = (uint16_t)ldns_get_rr_type_by_name(s)) == 0)
		return -1;
	return 0;
}

static void
config_match_qtype_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_rule	*r = ctx->rule;

	if (config_qtype_parse(s, &r->qtypes[r->nqtypes]) == -1)
		config_err(ctx, node, "%s: unknown type '%s'", name, s);
	else
		r->nqtypes++;
}

static void
config_match_qtype(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	size_t	 n;

	if ((n = config_strings_len(ctx, name, node)) == 0)
		return;
	if ((ctx->rule->qtypes = calloc(n, sizeof(*ctx->rule->qtypes))) ==
	    NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	config_strings(ctx, name, node, config_match_qtype_item);
}

/*
 * policy.groups[].rules[].response.override:
 */

/* A CNAME alongside other data at one name is not DNS (RFC 1034 3.6.2). */
static void
config_override(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	yaml_node_t	*cname;

	if (!config_is_map(ctx, name, node))
		return;
	ctx->rule->response = RESP_OVERRIDE;
	config_map(ctx, name, node, config_override_keys);
	cname = config_get(ctx, node, "cname");
	if (cname != NULL && (config_get(ctx, node, "a") != NULL ||
	    config_get(ctx, node, "aaaa") != NULL))
		config_err(ctx, cname, "%s.cname: cannot be combined with a "
		    "or aaaa", name);
	else if (cname == NULL && config_get(ctx, node, "a") == NULL &&
	    config_get(ctx, node, "aaaa") == NULL)
		config_err(ctx, node, "%s: needs a, aaaa or cname", name);
}

/* config_strings_len(), and the limit on addresses reported once. */
static size_t
config_override_len(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	size_t	 n;

	n = config_strings_len(ctx, name, node);
	if (n > CONFIG_MAX_OVERRIDE)
		config_err(ctx, config_item(ctx, node, CONFIG_MAX_OVERRIDE),
		    "%s: more than %d addresses", name, CONFIG_MAX_OVERRIDE);
	return n;
}

static void
config_override_a_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_override	*o = &ctx->rule->override;

	if (o->na == CONFIG_MAX_OVERRIDE)
		return;
	if (inet_pton(AF_INET, s, o->a[o->na]) != 1)
		config_err(ctx, node, "%s: bad IPv4 address '%s'", name, s);
	else
		o->na++;
}

static void
config_override_a(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	if (config_override_len(ctx, name, node) > 0)
		config_strings(ctx, name, node, config_override_a_item);
}

static void
config_override_aaaa_item(struct config_ctx *ctx, const char *name,
    yaml_node_t *node, const char *s)
{
	struct config_override	*o = &ctx->rule->override;

	if (o->naaaa == CONFIG_MAX_OVERRIDE)
		return;
	if (inet_pton(AF_INET6, s, o->aaaa[o->naaaa]) != 1)
		config_err(ctx, node, "%s: bad IPv6 address '%s'", name, s);
	else
		o->naaaa++;
}

static void
config_override_aaaa(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	if (config_override_len(ctx, name, node) > 0)
		config_strings(ctx, name, node, config_override_aaaa_item);
}

/*
 * A host name to uncompressed wire form, lower case, into wire[255].  It
 * is absolute with or without the final dot (config names are FQDNs);
 * letters, digits, '-' and '_' only, no escapes.
 */
static int
config_dname(const char *s, uint8_t *wire, size_t *len, const char **why)
{
	size_t	 off = 0, lablen, i;

	if (*s == '\0' || strcmp(s, ".") == 0) {
		*why = "empty name";
		return -1;
	}
	while (*s != '\0') {
		if ((lablen = strcspn(s, ".")) == 0) {
			*why = "empty label";
			return -1;
		}
		if (lablen > 63) {
			*why = "label longer than 63 characters";
			return -1;
		}
		if (off + 1 + lablen + 1 > 255) {
			*why = "longer than 255 bytes";
			return -1;
		}
		wire[off++] = (uint8_t)lablen;
		for (i = 0; i < lablen; i++) {
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
			    s[i] != '_') {
				*why = "only letters, digits, '-' and '_'";
				return -1;
			}
			wire[off++] = (uint8_t)tolower((unsigned char)s[i]);
		}
		s += lablen;
		if (*s == '.')
			s++;
	}
	wire[off++] = 0;
	*len = off;
	return 0;
}

static void
config_override_cname(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	struct config_override	*o = &ctx->rule->override;
	const char		*s, *why;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (config_dname(s, o->cname, &o->cnamelen, &why) == -1) {
		o->cnamelen = 0;
		config_err(ctx, node, "%s: bad name '%s': %s", name, s, why);
	}
}

static void
config_override_ttl(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_ttl(ctx, name, node, 0, 86400, "0..1d",
	    &ctx->rule->override.ttl);
}

/*
 * zones:
 */

static void
config_zones(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;

	if (!config_is_list(ctx, name, node) || config_len(node) == 0)
		return;
	if (config_len(node) > CONFIG_MAX_ZONES) {
		config_err(ctx, node, "%s: more than %d zones", name,
		    CONFIG_MAX_ZONES);
		return;
	}
	if ((cfg->zones = config_list_alloc(ctx, name, node,
	    sizeof(*cfg->zones))) != NULL)
		config_list_each(ctx, name, node, config_zone_item);
}

/*
 * A domain name, any case, with or without the final dot; kept lower case
 * without it, and in wire form.  The root is no zone: it is what the
 * default backend (resolver:) serves.
 */
static void
config_zone_name(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config_zone	*z = ctx->zone, *o;
	const char		*s, *why;
	uint8_t			 wire[255];
	size_t			 len, i;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (strcmp(s, ".") == 0) {
		config_err(ctx, node, "%s: the root is the default backend "
		    "(resolver:), not a zone", name);
		return;
	}
	if (config_dname(s, wire, &len, &why) == -1) {
		config_err(ctx, node, "%s: bad name '%s': %s", name, s, why);
		return;
	}
	for (o = ctx->cfg->zones; o < z; o++) {
		if (o->name != NULL && o->wirelen == len &&
		    memcmp(o->wire, wire, len) == 0) {
			config_err(ctx, node, "%s: zone '%s' is already "
			    "declared at line %d", name, o->name, o->line);
			return;
		}
	}
	if ((z->name = strdup(s)) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	for (i = 0; z->name[i] != '\0'; i++)
		z->name[i] = (char)tolower((unsigned char)z->name[i]);
	if (i > 0 && z->name[i - 1] == '.')
		z->name[i - 1] = '\0';
	memcpy(z->wire, wire, len);
	z->wirelen = len;
}

/* Remember a zone's server for config_check_loop(). */
static void
config_zaddr_add(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    const struct config_addr *a)
{
	struct config_zaddr	*za;
	size_t			 cap;

	if (ctx->nzaddrs == ctx->zaddrs_cap) {
		cap = ctx->zaddrs_cap ? ctx->zaddrs_cap * 2 : 16;
		if ((za = reallocarray(ctx->zaddrs, cap, sizeof(*za))) ==
		    NULL) {
			config_err(ctx, node, "%s: out of memory", name);
			return;
		}
		ctx->zaddrs = za;
		ctx->zaddrs_cap = cap;
	}
	za = &ctx->zaddrs[ctx->nzaddrs++];
	za->addr = a;
	za->node = node;
	snprintf(za->name, sizeof(za->name), "%s", name);
}

/*
 * A zone's servers (forward, fallback): 1..CONFIG_MAX_UPSTREAMS addresses
 * spelled as in resolver.upstreams; "system" is the default backend's.
 */
static void
config_zone_addrs(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    struct config_addr **out, size_t *nout)
{
	yaml_node_t	*item;
	struct addr	 a;
	const char	*s, *why;
	size_t		 i, n;

	if (!config_is_list(ctx, name, node))
		return;
	if ((n = config_len(node)) == 0) {
		config_err(ctx, node, "%s: at least one address is required",
		    name);
		return;
	}
	if (n > CONFIG_MAX_UPSTREAMS) {
		config_err(ctx, config_item(ctx, node, CONFIG_MAX_UPSTREAMS),
		    "%s: more than %d addresses", name, CONFIG_MAX_UPSTREAMS);
		n = CONFIG_MAX_UPSTREAMS;
	}
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((item = config_item(ctx, node, i)) == NULL ||
		    (s = config_scalar(ctx, name, item)) == NULL)
			continue;
		if (strcmp(s, "system") == 0)
			config_err(ctx, item, "%s: 'system' is only for "
			    "resolver.upstreams; a zone names its servers",
			    name);
		else if (addr_parse(s, CONFIG_DNS_PORT, &a, &why) == -1)
			config_err(ctx, item, "%s: bad address '%s': %s", name,
			    s, why);
		else {
			config_addr_set(&(*out)[*nout], &a, s);
			config_zaddr_add(ctx, name, item, &(*out)[*nout]);
			(*nout)++;
		}
	}
}

static void
config_zone_forward(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_zone_addrs(ctx, name, node, &ctx->zone->forward,
	    &ctx->zone->nforward);
}

static void
config_zone_fallback(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_zone_addrs(ctx, name, node, &ctx->zone->fallback,
	    &ctx->zone->nfallback);
}

static void
config_zone_on(struct config_ctx *ctx, const char *name, yaml_node_t *node,
    int *out)
{
	int	 v;

	if (config_enum(ctx, name, node, config_zone_ons, &v) == 0)
		*out = v;
	else
		ctx->zone_on_bad = 1;
}

static void
config_zone_on_nxdomain(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_zone_on(ctx, name, node, &ctx->zone->on_nxdomain);
}

static void
config_zone_on_nodata(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	config_zone_on(ctx, name, node, &ctx->zone->on_nodata);
}

/*
 * The records of a local zone, as written.  They are checked once the
 * whole zone is read (the name may come after them).  An empty list is a
 * zone with no names below it: NXDOMAIN for all of them.
 */
static void
config_zone_local(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config_zone	*z = ctx->zone;
	yaml_node_t		*item;
	const char		*s;
	char			 iname[CONFIG_NAMELEN];
	size_t			 i, n;

	z->kind = ZONE_LOCAL;
	if (!config_is_list(ctx, name, node) || (n = config_len(node)) == 0)
		return;
	if (n > CONFIG_MAX_LOCAL) {
		config_err(ctx, config_item(ctx, node, CONFIG_MAX_LOCAL),
		    "%s: more than %d records", name, CONFIG_MAX_LOCAL);
		return;
	}
	if ((z->local = calloc(n, sizeof(*z->local))) == NULL ||
	    (z->local_line = calloc(n, sizeof(*z->local_line))) == NULL ||
	    (z->local_col = calloc(n, sizeof(*z->local_col))) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((item = config_item(ctx, node, i)) == NULL)
			continue;
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		if ((s = config_scalar(ctx, iname, item)) == NULL)
			continue;
		if ((z->local[z->nlocal] = strdup(s)) == NULL) {
			config_err(ctx, item, "%s: out of memory", iname);
			return;
		}
		z->local_line[z->nlocal] = (int)item->start_mark.line + 1;
		z->local_col[z->nlocal] = (int)item->start_mark.column + 1;
		z->nlocal++;
	}
}

/*
 * Each record of a local zone alone, at its place, then (when each was
 * fine) the records together: CNAMEs, SOAs.
 */
static void
config_zone_records(struct config_ctx *ctx, const char *name,
    yaml_node_t *list)
{
	struct config_zone	*z = ctx->zone;
	yaml_node_t		*item;
	char			 why[512];
	size_t			 i, n;
	long			 bad;
	int			 nerr = ctx->nerr;

	if (z->name == NULL || list->type != YAML_SEQUENCE_NODE ||
	    (n = config_len(list)) > CONFIG_MAX_LOCAL)
		return;
	for (i = 0; i < n; i++) {
		if ((item = config_item(ctx, list, i)) == NULL ||
		    item->type != YAML_SCALAR_NODE)
			continue;
		if (zone_check_record((const char *)item->data.scalar.value,
		    z->name, why, sizeof(why)) == -1)
			config_err(ctx, item, "%s.local[%zu]: %s", name, i,
			    why);
	}
	/* Indexes of z->local are those of the list only when all are in. */
	if (ctx->nerr != nerr || z->nlocal != n)
		return;
	if ((bad = zone_check_records(z->local, z->nlocal, z->name, why,
	    sizeof(why))) >= 0)
		config_err_at(ctx, z->local_line[bad], z->local_col[bad],
		    "%s.local[%ld]: %s", name, bad, why);
}

/* What can only be checked with the whole zone read (keys in any order). */
static void
config_zone_check(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	static const char *const forward_only[] = {
		"on-nxdomain", "on-nodata", "fallback", NULL
	};
	struct config_zone	*z = ctx->zone;
	yaml_node_t		*fwd, *loc, *later, *n;
	size_t			 i;

	fwd = config_get(ctx, item, "forward");
	loc = config_get(ctx, item, "local");
	if (fwd == NULL && loc == NULL)
		config_err(ctx, item, "%s: needs forward (servers to ask) or "
		    "local (records to answer)", name);
	else if (fwd != NULL && loc != NULL) {
		later = fwd->start_mark.index > loc->start_mark.index ? fwd :
		    loc;
		config_err(ctx, later, "%s.%s: a zone has forward or local, "
		    "not both", name, later == fwd ? "forward" : "local");
	}
	if (loc != NULL) {
		for (i = 0; forward_only[i] != NULL; i++)
			if ((n = config_get(ctx, item, forward_only[i])) !=
			    NULL)
				config_err(ctx, n, "%s.%s: only for a forward "
				    "zone (a local zone's answers are final)",
				    name, forward_only[i]);
		config_zone_records(ctx, name, loc);
	} else if ((n = config_get(ctx, item, "fallback")) != NULL &&
	    !z->on_nxdomain && !z->on_nodata && !ctx->zone_on_bad)
		config_err(ctx, n, "%s.fallback: needs on-nxdomain: fallback "
		    "or on-nodata: fallback", name);
}

static void
config_zone_item(struct config_ctx *ctx, const char *name, yaml_node_t *item)
{
	struct config_zone	*z;

	z = &ctx->cfg->zones[ctx->cfg->nzones++];
	z->kind = ZONE_FORWARD;
	z->line = (int)item->start_mark.line + 1;
	z->col = (int)item->start_mark.column + 1;
	ctx->zone = z;
	ctx->zone_on_bad = 0;
	config_map(ctx, name, item, config_zone_keys);
	config_require(ctx, name, item, config_zone_required);
	config_zone_check(ctx, name, item);
	ctx->zone = NULL;
}

/*
 * log:
 */

/*
 * A decisions mapping names the sinks that are on; every other sink is
 * off, so { file: x } means the file alone.  "off" (or any false word)
 * turns the decision log off altogether.
 */
static void
config_decisions(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	struct config	*cfg = ctx->cfg;
	int		 on;

	if (node->type == YAML_SCALAR_NODE &&
	    config_bool_word((const char *)node->data.scalar.value, &on) == 0 &&
	    !on) {
		cfg->log_stdout = cfg->log_syslog = 0;
		free(cfg->log_file);
		cfg->log_file = NULL;
		return;
	}
	if (node->type != YAML_MAPPING_NODE) {
		config_err(ctx, node, "'%s' must be a mapping or 'off'", name);
		return;
	}
	cfg->log_stdout = cfg->log_syslog = 0;
	free(cfg->log_file);
	cfg->log_file = NULL;
	config_map(ctx, name, node, config_decisions_keys);
}

static void
config_log_file(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	const char	*s;

	if ((s = config_scalar(ctx, name, node)) == NULL)
		return;
	if (*s == '\0') {
		config_err(ctx, node, "%s: empty path", name);
		return;
	}
	if ((ctx->cfg->log_file = strdup(s)) == NULL)
		config_err(ctx, node, "%s: out of memory", name);
}

static void
config_log_stdout(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_bool(ctx, name, node, &ctx->cfg->log_stdout);
}

static void
config_log_syslog(struct config_ctx *ctx, const char *name, yaml_node_t *node)
{
	config_bool(ctx, name, node, &ctx->cfg->log_syslog);
}

/*
 * Whole-file checks, after every key has been read.
 */

/* How errors name upstreams the file did not list. */
static const char *
config_upstreams_name(const struct config_ctx *ctx)
{
	return ctx->upstreams_set ? "resolver.upstreams" :
	    "resolver.upstreams (default)";
}

/*
 * Forwarding to one of our own listeners loops every query back to us;
 * the likely way in is "system" on a host whose resolv.conf already points
 * at dnsward.  Only exact matches are caught: a wildcard listener's local
 * addresses are not known here.
 */
static void
config_check_loop(struct config_ctx *ctx)
{
	struct config	*cfg = ctx->cfg;
	char		 buf[ADDR_STRLEN];
	size_t		 i, j;

	for (i = 0; i < cfg->nupstreams; i++) {
		for (j = 0; j < cfg->nlisten; j++) {
			if (!addr_equal(
			    (struct sockaddr *)&cfg->upstreams[i].addr.ss,
			    (struct sockaddr *)&cfg->listen[j].addr.ss))
				continue;
			addr_str(&cfg->upstreams[i].addr, buf, sizeof(buf));
			config_err(ctx, ctx->upstream_node[i],
			    "%s: %s is also in server.listen "
			    "(a forwarding loop)", config_upstreams_name(ctx),
			    buf);
			break;
		}
	}
}

/* The same for the servers of zones (forward and fallback). */
static void
config_check_zone_loop(struct config_ctx *ctx)
{
	struct config		*cfg = ctx->cfg;
	struct config_zaddr	*za;
	char			 buf[ADDR_STRLEN];
	size_t			 i, j;

	for (i = 0; i < ctx->nzaddrs; i++) {
		za = &ctx->zaddrs[i];
		for (j = 0; j < cfg->nlisten; j++) {
			if (!addr_equal((struct sockaddr *)&za->addr->addr.ss,
			    (struct sockaddr *)&cfg->listen[j].addr.ss))
				continue;
			addr_str(&za->addr->addr, buf, sizeof(buf));
			config_err(ctx, za->node, "%s: %s is also in "
			    "server.listen (a forwarding loop)", za->name, buf);
			break;
		}
	}
}

/* Point each rule at its feeds, now that every feed is known. */
static void
config_resolve_feeds(struct config_ctx *ctx)
{
	struct config		*cfg = ctx->cfg;
	struct config_ref	*ref;
	size_t			 i, j;

	for (i = 0; i < ctx->nrefs; i++) {
		ref = &ctx->refs[i];
		for (j = 0; j < cfg->nfeeds; j++)
			if (cfg->feeds[j].id != NULL &&
			    strcmp(cfg->feeds[j].id, ref->id) == 0)
				break;
		if (j == cfg->nfeeds) {
			config_err(ctx, ref->node, "%s: no feed with id '%s'",
			    ref->name, ref->id);
			continue;
		}
		*ref->slot = j;
		/* Names and addresses do not mix (auto: decided at load). */
		if (ref->ip && cfg->feeds[j].format != FEED_IP &&
		    cfg->feeds[j].format != FEED_RPZ &&
		    cfg->feeds[j].format != FEED_AUTO)
			config_err(ctx, ref->node, "%s: feed '%s' is a list of "
			    "names; answer-ip needs a feed of addresses "
			    "(format: ip)", ref->name, ref->id);
		else if (!ref->ip && cfg->feeds[j].format == FEED_IP)
			config_err(ctx, ref->node, "%s: feed '%s' is a list of "
			    "addresses (format: ip); match answers with "
			    "answer-ip", ref->name, ref->id);
	}
}

/* Geo conditions need their database. */
static void
config_check_geo(struct config_ctx *ctx)
{
	const struct config	*cfg = ctx->cfg;
	size_t			 g, r;

	for (g = 0; g < cfg->ngroups; g++)
		for (r = 0; r < cfg->groups[g].nrules; r++) {
			const struct config_rule *cr = &cfg->groups[g].rules[r];

			if ((cr->ncountries > 0 || cr->nclient_countries > 0) &&
			    cfg->geo_country_db == NULL)
				config_err_at(ctx, cr->line, cr->col, "rule '%s': "
				    "country conditions need geo.country-db",
				    cr->name);
			if (cr->nasns > 0 && cfg->geo_asn_db == NULL)
				config_err_at(ctx, cr->line, cr->col, "rule '%s': "
				    "answer-asn needs geo.asn-db", cr->name);
		}
}

static void
config_finish(struct config_ctx *ctx)
{
	if (!ctx->upstreams_set)
		config_system(ctx, config_upstreams_name(ctx), NULL);
	config_check_loop(ctx);
	config_check_zone_loop(ctx);
	config_resolve_feeds(ctx);
	config_check_geo(ctx);
}

/*
 * Loading
 */

/* Report libyaml's own error (syntax, bad UTF-8, undefined alias, ...). */
static void
config_yaml_error(struct config_ctx *ctx, const yaml_parser_t *parser)
{
	const char	*problem = parser->problem ? parser->problem :
			    "unknown YAML error";

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		config_err(ctx, NULL, "out of memory");
		break;
	case YAML_READER_ERROR:
		/* The reader knows a byte offset, not a line. */
		config_err(ctx, NULL, "%s at byte %zu", problem,
		    parser->problem_offset);
		break;
	default:
		/*
		 * The classic trap: [127.0.0.1, ::1/128] -- a plain scalar in
		 * a flow list cannot start with ':'.  Say how to fix it.
		 */
		if (strcmp(problem, "did not find expected node content") == 0)
			config_err_mark(ctx, &parser->problem_mark, "%s "
			    "(in [ ] lists, quote values that start with ':', "
			    "e.g. \"::1/128\")", problem);
		else
			config_err_mark(ctx, &parser->problem_mark, "%s",
			    problem);
		break;
	}
}

/* The first document, then make sure no second one follows. */
static void
config_document(struct config_ctx *ctx, yaml_parser_t *parser)
{
	yaml_node_t	*root;
	yaml_document_t	 extra;

	/* An empty file, or one with only "---", means all defaults. */
	root = yaml_document_get_root_node(ctx->doc);
	if (root == NULL || (root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.length == 0 &&
	    root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
		return;
	if (root->type == YAML_MAPPING_NODE)
		config_map(ctx, NULL, root, config_top_keys);
	else
		config_err(ctx, root, "expected a mapping");

	if (!yaml_parser_load(parser, &extra)) {
		config_yaml_error(ctx, parser);
		return;
	}
	if ((root = yaml_document_get_root_node(&extra)) != NULL)
		config_err(ctx, root, "only one YAML document is allowed");
	yaml_document_delete(&extra);
}

static void
config_parse_file(struct config_ctx *ctx, FILE *fp)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;

	if (!yaml_parser_initialize(&parser)) {
		config_err(ctx, NULL, "out of memory");
		return;
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &doc)) {
		config_yaml_error(ctx, &parser);
		yaml_parser_delete(&parser);
		return;
	}
	/* config_finish() points errors at nodes: keep doc until after it. */
	ctx->doc = &doc;
	config_document(ctx, &parser);
	config_finish(ctx);
	ctx->doc = NULL;
	free(ctx->refs);
	ctx->refs = NULL;
	ctx->nrefs = ctx->refs_cap = 0;
	free(ctx->zaddrs);
	ctx->zaddrs = NULL;
	ctx->nzaddrs = ctx->zaddrs_cap = 0;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

/* Open path for reading; a directory opens fine but is no config file. */
static FILE *
config_open(struct config_ctx *ctx)
{
	FILE		*fp;
	struct stat	 st;

	if ((fp = fopen(ctx->path, "r")) == NULL) {
		config_err(ctx, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		config_err(ctx, NULL, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
		return NULL;
	}
	return fp;
}

int
config_load(struct config *cfg, const char *path, const char *resolv_conf,
    config_report_fn report, void *arg)
{
	struct config_ctx	 ctx;
	FILE			*fp;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = path;
	ctx.resolv_conf = resolv_conf;
	ctx.report = report;
	ctx.arg = arg;

	if (config_defaults(cfg) == -1 ||
	    (cfg->path = strdup(path)) == NULL)
		config_err(&ctx, NULL, "out of memory");
	else if ((fp = config_open(&ctx)) != NULL) {
		config_parse_file(&ctx, fp);
		fclose(fp);
	}
	if (ctx.nerr > 0)
		config_release(cfg);
	return ctx.nerr;
}

/*
 * Defaults and helpers
 */

static int
config_default_acl(struct config *cfg)
{
	struct acl_net	 net;
	const char	*why;
	size_t		 i;

	if ((cfg->allow_clients = acl_new()) == NULL)
		return -1;
	for (i = 0; config_default_clients[i] != NULL; i++) {
		if (acl_net_parse(config_default_clients[i], &net, &why) == -1 ||
		    acl_add(cfg->allow_clients, &net) == -1)
			return -1;
	}
	return 0;
}

/*
 * resolver.upstreams defaults to "system", which needs a file read; that
 * is config_load()'s job, so here nupstreams stays 0 and config_load()
 * expands "system" when the file names no upstreams.
 */
int
config_defaults(struct config *cfg)
{
	struct addr	 a;
	const char	*why;
	size_t		 i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; config_default_listen[i] != NULL; i++) {
		if (addr_parse(config_default_listen[i], CONFIG_DNS_PORT, &a,
		    &why) == -1)
			return -1;
		config_addr_set(&cfg->listen[cfg->nlisten++], &a,
		    config_default_listen[i]);
	}
	cfg->threads = 0;
	cfg->tcp_max_connections = 1000;
	cfg->tcp_idle_timeout_ms = 10 * 1000;
	cfg->edns_buffer_size = 1232;
	cfg->mode = RESOLVER_FORWARD;
	cfg->nupstreams = 0;
	cfg->timeout_ms = 1500;
	cfg->log_file = NULL;
	cfg->log_stdout = 1;
	cfg->log_syslog = 0;
	cfg->nzones = 0;
	cfg->nfeeds = 0;
	cfg->policy_default = RULE_ALLOW;
	cfg->redirection = REDIR_INSPECT;
	cfg->block_ttl = 60;
	cfg->ngroups = 0;
	cfg->cache_size = 256 << 20;
	cfg->cache_min_ttl = 0;
	cfg->cache_max_ttl = 86400;
	cfg->cache_negative_max_ttl = 3600;
	cfg->cache_serve_stale = 0;
	cfg->has_metrics = 0;
	cfg->dnssec = 1;
	cfg->qname_min = 1;
	cfg->query_loopback = 0;
	cfg->ntrust_anchors = 1;		/* text set below */
	cfg->trust_anchors[0].is_file = 1;
	if ((cfg->user = strdup(CONFIG_DEFAULT_USER)) == NULL ||
	    (cfg->root_hints = strdup(CONFIG_DEFAULT_ROOT_HINTS)) == NULL ||
	    (cfg->trust_anchors[0].text =
	    strdup(CONFIG_DEFAULT_TRUST_ANCHOR)) == NULL ||
	    (cfg->control_socket = strdup(CONFIG_DEFAULT_CONTROL)) == NULL ||
	    config_default_acl(cfg) == -1) {
		config_release(cfg);
		return -1;
	}
	return 0;
}

static void
config_rule_release(struct config_rule *r)
{
	size_t	 i;

	free(r->name);
	free(r->feeds);
	free(r->ipfeeds);
	free(r->countries);
	free(r->client_countries);
	free(r->asns);
	for (i = 0; i < r->ntlds; i++)
		free(r->tlds[i]);
	free(r->tlds);
	free(r->qtypes);
}

static void
config_zone_release(struct config_zone *z)
{
	size_t	 i;

	free(z->name);
	free(z->forward);
	free(z->fallback);
	for (i = 0; i < z->nlocal; i++)
		free(z->local[i]);
	free(z->local);
	free(z->local_line);
	free(z->local_col);
}

static void
config_group_release(struct config_group *g)
{
	size_t	 i;

	free(g->name);
	acl_free(g->clients);
	for (i = 0; i < g->nrules; i++)
		config_rule_release(&g->rules[i]);
	free(g->rules);
}

void
config_release(struct config *cfg)
{
	size_t	 i;

	free(cfg->path);
	cfg->path = NULL;
	acl_free(cfg->allow_clients);
	cfg->allow_clients = NULL;
	for (i = 0; i < cfg->nzones; i++)
		config_zone_release(&cfg->zones[i]);
	free(cfg->zones);
	cfg->zones = NULL;
	cfg->nzones = 0;
	for (i = 0; i < cfg->nfeeds; i++) {
		free(cfg->feeds[i].id);
		free(cfg->feeds[i].path);
	}
	free(cfg->feeds);
	cfg->feeds = NULL;
	cfg->nfeeds = 0;
	for (i = 0; i < cfg->ngroups; i++)
		config_group_release(&cfg->groups[i]);
	free(cfg->groups);
	cfg->groups = NULL;
	cfg->ngroups = 0;
	free(cfg->log_file);
	cfg->log_file = NULL;
	free(cfg->geo_country_db);
	cfg->geo_country_db = NULL;
	free(cfg->geo_asn_db);
	cfg->geo_asn_db = NULL;
	free(cfg->user);
	cfg->user = NULL;
	free(cfg->control_socket);
	cfg->control_socket = NULL;
	free(cfg->root_hints);
	cfg->root_hints = NULL;
	for (i = 0; i < cfg->ntrust_anchors; i++)
		free(cfg->trust_anchors[i].text);
	cfg->ntrust_anchors = 0;
}

/* Units a duration may carry; no unit means milliseconds. */
static const struct {
	const char	*unit;
	unsigned long long ms;
} config_units[] = {
	{ "ms",	1 },
	{ "s",	1000 },
	{ "m",	60 * 1000 },
	{ "h",	60 * 60 * 1000 },
	{ "d",	24 * 60 * 60 * 1000 },
	{ "",	1 },
	{ NULL,	0 }
};

int
config_parse_duration_ms(const char *text, unsigned *ms, const char **why)
{
	unsigned long long	 v = 0;
	const char		*p;
	size_t			 i;

	if (text == NULL || *text == '\0') {
		*why = "empty duration";
		return -1;
	}
	for (p = text; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > UINT_MAX) {
			*why = "too large";
			return -1;
		}
	}
	if (p == text) {
		*why = "expected a number with unit ms, s, m, h or d";
		return -1;
	}
	for (i = 0; config_units[i].unit != NULL; i++)
		if (strcmp(p, config_units[i].unit) == 0)
			break;
	if (config_units[i].unit == NULL) {
		*why = "unknown unit (ms, s, m, h or d)";
		return -1;
	}
	if (v > UINT_MAX / config_units[i].ms) {
		*why = "too large";
		return -1;
	}
	*ms = (unsigned)(v * config_units[i].ms);
	return 0;
}
