/*
 * config.c -- the YAML configuration, parsed and validated.
 *
 * The file is loaded with libyaml's document API so that every node keeps
 * its position for error messages.  Each section is a table of key name ->
 * handler; a new key is a new row and a small handler.  Handlers report
 * problems through config_err() and keep going, so one run reports every
 * error in the file.
 *
 * The walk only descends into the fixed shape of the schema (section, at
 * most one nested map, lists of scalars), never into arbitrary nodes, so
 * aliases that make a cycle cannot send it into a loop.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "acl.h"
#include "addr.h"
#include "config.h"

#define CONFIG_DNS_PORT		53
#define CONFIG_RESOLV_CONF	"/etc/resolv.conf"
#define CONFIG_NAMELEN		128	/* longest dotted key path */

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
static void	config_log(struct config_ctx *, const char *, yaml_node_t *);
static void	config_decisions(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_file(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_stdout(struct config_ctx *, const char *,
		    yaml_node_t *);
static void	config_log_syslog(struct config_ctx *, const char *,
		    yaml_node_t *);

static const struct config_key config_top_keys[] = {
	{ "server",		config_server },
	{ "resolver",		config_resolver },
	{ "log",		config_log },
	{ NULL,			NULL }
};

static const struct config_key config_server_keys[] = {
	{ "listen",		config_listen },
	{ "threads",		config_threads },
	{ "allow-clients",	config_allow_clients },
	{ "tcp",		config_tcp },
	{ "edns-buffer-size",	config_edns_size },
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
	{ NULL,			NULL }
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

/* Parse the list into a new ACL that replaces the default one entirely. */
static void
config_allow_clients(struct config_ctx *ctx, const char *name,
    yaml_node_t *node)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	struct acl		*acl;
	struct acl_net		 net;
	const char		*s, *why;

	if (!config_is_list(ctx, name, node))
		return;
	if ((acl = acl_new()) == NULL) {
		config_err(ctx, node, "%s: out of memory", name);
		return;
	}
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(ctx->doc, *it)) == NULL ||
		    (s = config_scalar(ctx, name, item)) == NULL)
			continue;
		if (acl_net_parse(s, &net, &why) == -1)
			config_err(ctx, item, "%s: bad network '%s': %s", name,
			    s, why);
		else if (acl_add(acl, &net) == -1)
			config_err(ctx, item, "%s: out of memory", name);
	}
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
		/* libunbound recursion is not built yet: say so, here. */
		config_err(ctx, node, "%s: 'recurse' is not available in this "
		    "version; use 'forward'", name);
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

static void
config_finish(struct config_ctx *ctx)
{
	if (!ctx->upstreams_set)
		config_system(ctx, config_upstreams_name(ctx), NULL);
	config_check_loop(ctx);
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
	if (config_default_acl(cfg) == -1) {
		config_release(cfg);
		return -1;
	}
	return 0;
}

void
config_release(struct config *cfg)
{
	free(cfg->path);
	cfg->path = NULL;
	acl_free(cfg->allow_clients);
	cfg->allow_clients = NULL;
	free(cfg->log_file);
	cfg->log_file = NULL;
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
