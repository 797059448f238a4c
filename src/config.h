/*
 * config.h -- the YAML configuration, parsed and validated.
 *
 * config_load() reads a file with libyaml and fills a struct config.  Every
 * problem is reported as "FILE:LINE:COL: message" (1-based line and column,
 * pointing at the offending key or value) through the caller's report
 * callback; parsing goes on after an error so that one run reports them all,
 * and the load fails if there was any.  Unknown keys, wrong types (a map
 * where a list belongs, ...) and bad values are all errors: nothing is
 * silently ignored.
 *
 * All defaults live in config_defaults() and nowhere else.
 *
 * Key names are the contract of shared/DESIGN.md ("Configuration sketch").
 * Keys of later features are added here as they are implemented; until then
 * they are unknown keys, and so errors.
 */
#ifndef DNSWARD_CONFIG_H
#define DNSWARD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct acl;

enum resolver_mode {
	RESOLVER_FORWARD = 0,
	RESOLVER_RECURSE		/* accepted by the parser: issue 7 */
};

/* A trust anchor: a file, or a DS/DNSKEY record inline. */
struct config_ta {
	char		*text;
	int		 is_file;
	int		 line, col;	/* 0: the default */
};

/*
 * An address with the text the operator wrote (for logs and errors).  slot
 * is the address's place in the daemon's upstream table (health and
 * counters), set when a generation is made from the configuration; the
 * parser leaves it 0.
 */
struct config_addr {
	struct addr	addr;
	char		text[ADDR_STRLEN];
	int		slot;
};

/* feeds: */
enum feed_format {
	FEED_AUTO = 0,		/* detected from the first meaningful lines */
	FEED_PLAIN,		/* one domain per line */
	FEED_HOSTS,		/* "0.0.0.0 name [name...]" */
	FEED_RPZ,		/* RPZ zone file (QNAME triggers) */
	FEED_ADBLOCK,		/* "||name^", "@@||name^" */
	FEED_IP			/* one address or CIDR per line */
};

/* How entries of a plain list match (other formats carry their own). */
enum feed_match {
	FEED_MATCH_SUBDOMAINS = 0,	/* the name and every name below it */
	FEED_MATCH_EXACT		/* the name only */
};

struct config_feed {
	char		*id;
	char		*path;		/* as written (relative to the cwd) */
	enum feed_format format;
	enum feed_match	 match;
	unsigned	 refresh_ms;	/* check the file this often; 0: off */
	unsigned	 max_shrink;	/* percent of entries a new version may
					   lose; 100: no guard */
	int		 line, col;	/* where the feed is declared */
};

/* policy: */
enum rule_action {
	RULE_ALLOW = 0,		/* stop; resolve */
	RULE_BLOCK,		/* stop; answer with the response */
	RULE_ALERT		/* log; keep evaluating */
};

enum block_response {
	RESP_AUTO = 0,		/* the feed entry's own RPZ action, else nxdomain */
	RESP_NXDOMAIN,
	RESP_NODATA,
	RESP_OVERRIDE,
	RESP_REFUSED,
	RESP_DROP
};

#define CONFIG_MAX_OVERRIDE	8

struct config_override {
	uint8_t		 a[CONFIG_MAX_OVERRIDE][4];
	size_t		 na;
	uint8_t		 aaaa[CONFIG_MAX_OVERRIDE][16];
	size_t		 naaaa;
	uint8_t		 cname[255];	/* wire form, lower case; 0 = none */
	size_t		 cnamelen;
	uint32_t	 ttl;		/* seconds */
};

/* Redirection (CNAME/DNAME chains) of a rule. */
enum redirection {
	REDIR_DEFAULT = 0,	/* policy.redirection */
	REDIR_INSPECT,		/* every name of the chain is checked */
	REDIR_TRUST		/* only the query name */
};

struct config_rule {
	char		*name;
	int		 priority;
	size_t		*feeds;		/* indexes into config.feeds */
	size_t		 nfeeds;
	size_t		*ipfeeds;	/* answer-ip: indexes, idem */
	size_t		 nipfeeds;
	char		(*countries)[3]; /* answer-country: "GB"; "??" =
					    unknown */
	size_t		 ncountries;
	uint32_t	*asns;		/* answer-asn */
	size_t		 nasns;
	char		(*client_countries)[3];	/* client-country */
	size_t		 nclient_countries;
	char		**tlds;		/* lower case, no dots */
	size_t		 ntlds;
	uint16_t	*qtypes;
	size_t		 nqtypes;
	enum rule_action action;
	enum block_response response;
	struct config_override override; /* when response == RESP_OVERRIDE */
	enum redirection redirection;
	int		 line, col;
};

/* zones: */
enum zone_kind {
	ZONE_FORWARD = 0,	/* forward: servers */
	ZONE_LOCAL		/* local: records */
};

struct config_zone {
	char		*name;		/* lower case, no final dot */
	uint8_t		 wire[255];	/* the same, wire form */
	size_t		 wirelen;
	enum zone_kind	 kind;
	struct config_addr *forward;	/* ZONE_FORWARD: at least one */
	size_t		 nforward;
	struct config_addr *fallback;	/* where a fallback asks; none: the
					   default backend (resolver.mode) */
	size_t		 nfallback;
	int		 on_nxdomain;	/* 1: fallback */
	int		 on_nodata;	/* 1: fallback */
	char		**local;	/* ZONE_LOCAL: records as written */
	int		*local_line;	/* where each record is */
	int		*local_col;
	size_t		 nlocal;
	int		 line, col;	/* where the zone is declared */
};

struct config_group {
	char		*name;
	int		 priority;
	struct acl	*clients;	/* NULL: every client */
	struct config_rule *rules;	/* in file order */
	size_t		 nrules;
	int		 line, col;
};

#define CONFIG_MAX_LISTEN	32
#define CONFIG_MAX_FEEDS	256	/* = STATS_MAX_FEEDS */
#define CONFIG_DEFAULT_USER	"dnsward"
#define CONFIG_DEFAULT_ROOT_HINTS "/usr/share/dns/root.hints"
#define CONFIG_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define CONFIG_MAX_TA		16
#define CONFIG_DEFAULT_CONTROL	"/run/dnsward/control.sock"
#define CONFIG_DEFAULT_MAX_SHRINK 50
#define CONFIG_METRICS_PORT	9153
#define CONFIG_MAX_UPSTREAMS	16	/* per list: upstreams, a zone's */
#define CONFIG_MAX_ZONES	1024
#define CONFIG_MAX_LOCAL	4096	/* records of one local zone */
#define CONFIG_LOCAL_TTL	3600	/* a local record without a TTL */

struct config {
	char		*path;			/* file it came from */

	/* server: */
	struct config_addr listen[CONFIG_MAX_LISTEN];
	size_t		 nlisten;
	unsigned	 threads;		/* 0 = auto (one per CPU) */
	struct acl	*allow_clients;		/* owned */
	unsigned	 tcp_max_connections;
	unsigned	 tcp_idle_timeout_ms;
	uint16_t	 edns_buffer_size;	/* 512..4096 */
	char		*user;			/* drop to it when root */
	int		 user_set;		/* written in the file */
	int		 user_line, user_col;

	/* resolver: */
	enum resolver_mode mode;
	struct config_addr upstreams[CONFIG_MAX_UPSTREAMS];
	size_t		 nupstreams;		/* "system" is expanded here */
	unsigned	 timeout_ms;		/* per try, one upstream */
	int		 dnssec;		/* recurse: validate */
	char		*root_hints;		/* recurse: file */
	int		 root_hints_line, root_hints_col;
	struct config_ta trust_anchors[CONFIG_MAX_TA];
	size_t		 ntrust_anchors;
	int		 qname_min;		/* recurse */
	int		 query_loopback;	/* recurse: ask 127/8, ::1 */

	/* zones: (file order; routing picks the longest match) */
	struct config_zone *zones;
	size_t		 nzones;

	/* feeds: */
	struct config_feed *feeds;
	size_t		 nfeeds;

	/* policy: */
	enum rule_action policy_default;	/* RULE_ALLOW or RULE_BLOCK */
	enum redirection redirection;		/* REDIR_INSPECT or _TRUST */
	uint32_t	 block_ttl;		/* seconds, negative answers */
	struct config_group *groups;		/* in file order */
	size_t		 ngroups;

	/* geo: (NULL: none) */
	char		*geo_country_db;
	char		*geo_asn_db;
	int		 geo_country_line, geo_country_col;
	int		 geo_asn_line, geo_asn_col;

	/* cache: */
	size_t		 cache_size;		/* bytes; 0: no cache */
	uint32_t	 cache_min_ttl;		/* seconds */
	uint32_t	 cache_max_ttl;
	uint32_t	 cache_negative_max_ttl;
	uint32_t	 cache_serve_stale;	/* seconds; 0: off */

	/* log.decisions: */
	char		*log_file;		/* NULL: no file sink */
	int		 log_stdout;
	int		 log_syslog;

	/* control: (NULL: no control socket) */
	char		*control_socket;

	/* metrics: */
	int		 has_metrics;
	struct config_addr metrics_listen;
};

/*
 * Called once per problem with the full "FILE:LINE:COL: message" text.
 * arg is the pointer given to config_load().
 */
typedef void (*config_report_fn)(void *arg, const char *msg);

/*
 * Fill *cfg with the defaults:
 *   server.listen         127.0.0.1:53, [::1]:53
 *   server.threads        auto
 *   server.allow-clients  127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12
 *                         192.168.0.0/16 fc00::/7   (never an open resolver)
 *   server.tcp            max-connections 1000, idle-timeout 10s
 *   server.edns-buffer-size 1232
 *   server.user           dnsward (when started as root; a missing user
 *                         is an error only when the file names it)
 *   resolver.mode         forward
 *   resolver.upstreams    [system]  (nameservers of /etc/resolv.conf)
 *   resolver.timeout      1500ms
 *   zones                 none (every name goes to resolver.mode);
 *                         zones[].on-nxdomain, on-nodata: answer;
 *                         zones[].fallback: the default backend
 *   log.decisions         stdout
 *   feeds                 none
 *   policy.default        allow
 *   policy.redirection    inspect
 *   policy.block-ttl      60s
 *   policy.groups         none
 *   feeds[].refresh       off;  feeds[].max-shrink 50%
 *   control.socket        /run/dnsward/control.sock
 *   metrics.listen        off
 * Returns 0, -1 when out of memory.
 */
int	config_defaults(struct config *cfg);

/*
 * Load and validate path into a fresh *cfg (defaults first, then the file).
 * resolv_conf is the file "system" upstreams are read from (NULL means
 * /etc/resolv.conf; tests pass their own).  Returns 0 when the file is
 * valid; otherwise every problem went to report() and the return is the
 * number of errors (> 0).  On failure *cfg is released (config_release()).
 */
int	config_load(struct config *cfg, const char *path,
	    const char *resolv_conf, config_report_fn report, void *arg);

/* Free what *cfg owns (not cfg itself); safe on a zeroed struct. */
void	config_release(struct config *cfg);

/*
 * Helpers shared with other parsers (and unit-tested on their own).
 * Each returns 0 on success, -1 with a static reason in *why.
 */
/* "1500ms", "2s", "5m", "1h", "1d", "250" (ms when no unit). */
int	config_parse_duration_ms(const char *text, unsigned *ms,
	    const char **why);

/*
 * "256MB", "64k", "1G", "1048576": bytes, units k/M/G (powers of 1024,
 * with an optional B or iB).  0 or -1 with a reason in *why.
 */
int	config_parse_size(const char *text, size_t *bytes, const char **why);

#define CONFIG_CACHE_MIN	(64ULL << 10)
#define CONFIG_CACHE_MAX	(1024ULL << 30)

#endif /* DNSWARD_CONFIG_H */
