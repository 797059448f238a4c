/*
 * dlog.h -- the decision log: one JSON object per line for every query.
 *
 * Workers never format or write the log themselves.  A worker copies a small
 * fixed record (plus the reply's wire bytes, from which the writer formats
 * the "answers" field) into its own single-producer/single-consumer ring;
 * one writer thread drains every ring, formats JSON and writes the sinks
 * (file, stdout, syslog).  When a ring is full the record is dropped and
 * counted (dlog_dropped()): query handling never waits for the disk.
 *
 * Field names follow Route 53 Resolver query logs where one exists; see
 * dlog_format() for the exact line.
 */
#ifndef DNSWARD_DLOG_H
#define DNSWARD_DLOG_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

enum dlog_transport { DLOG_UDP = 0, DLOG_TCP };

/* Longest group, rule or feed name kept in a record (longer are cut). */
#define DLOG_NAME_MAX	64

/* firewall_rule_action */
enum dlog_action {
	DLOG_ACTION_NONE = 0,	/* no policy reached: malformed, notimp, ... */
	DLOG_ACTION_ALLOW,
	DLOG_ACTION_BLOCK,
	DLOG_ACTION_ALERT
};

/*
 * What one query came to.  Strings are pointers to static text or to text
 * that outlives the record's trip through the ring (copied in dlog_submit()
 * if not static -- see the field comments).
 */
struct dlog_rec {
	struct timespec	ts;		/* CLOCK_REALTIME at receipt */
	struct sockaddr_storage src;	/* client address and port */
	enum dlog_transport transport;
	int		worker;		/* "id" */

	/* Question; qname_len == 0 when none could be parsed. */
	uint8_t		qname[255];	/* wire format, client's case */
	uint8_t		qname_len;
	uint16_t	qtype;
	uint16_t	qclass;

	int		rcode;		/* -1: no reply was sent (dropped) */
	enum dlog_action action;
	const char	*reason;	/* static text: "default", "acl", ... */
	const char	*cache;		/* static text or NULL (omitted) */

	/* The rule that decided (empty strings when none), and the name
	 * it matched: the query name or one of its answer's CNAME targets. */
	char		group[DLOG_NAME_MAX];	/* firewall_rule_group_id */
	char		rule[DLOG_NAME_MAX];
	char		feed[DLOG_NAME_MAX];	/* firewall_domain_list_id */
	uint8_t		matched[255];		/* wire; matched_len 0: none */
	uint8_t		matched_len;

	/* answer-ip: the answer's address that matched, and the prefix. */
	int		answer_af;	/* 0: none */
	uint8_t		answer_addr[16];
	int		prefix_af;	/* answer-ip only */
	uint8_t		prefix[16];
	uint8_t		plen;
	char		answer_country[3];	/* "" none, "??" unknown */
	uint32_t	answer_asn;		/* 0: none */

	int		recursion;	/* upstream: "recursion" */
	uint8_t		zone[255];	/* the zone that routed it (wire) */
	uint8_t		zone_len;	/* 0: none (the default backend) */
	int		fallback;	/* a zone's fallback answered */
	int		has_upstream;
	struct addr	upstream;	/* the upstream that answered / last tried */
	uint32_t	latency_us;	/* receipt to reply (or drop) */
};

struct dlog;

/* Sinks are given as in configuration: a file path (or NULL), flags. */
struct dlog_sinks {
	const char	*file;
	int		 to_stdout;
	int		 to_syslog;
};

/*
 * Open the sinks and allocate one ring of ring_bytes per worker.  Returns
 * NULL on failure with a message in err ("open /x/y: Permission denied").
 * No thread runs until dlog_start().
 */
struct dlog	*dlog_new(const struct dlog_sinks *, unsigned nworkers,
		    size_t ring_bytes, char *err, size_t errsz);

/* Start the writer thread.  0 on success, -1 on failure. */
int		 dlog_start(struct dlog *);

/*
 * Called by worker `worker` only (single producer per ring).  Copies the
 * record and reply[0..reply_len) (the wire reply sent to the client, or
 * NULL/0 when there was none) into the ring.  Never blocks; when the ring
 * has no room the record is counted as dropped.
 */
void		 dlog_submit(struct dlog *, unsigned worker,
		    const struct dlog_rec *, const uint8_t *reply,
		    size_t reply_len);

/* Ask the writer to reopen the file sink (SIGUSR1).  Async-signal-safe. */
void		 dlog_reopen(struct dlog *);

/* Records dropped because a ring was full, since start. */
uint64_t	 dlog_dropped(const struct dlog *);

/* Records written, since start. */
uint64_t	 dlog_written(const struct dlog *);

/*
 * Stop: the writer drains every ring, flushes, closes the sinks and exits;
 * then everything is freed.  Workers must have stopped submitting.
 * Accepts NULL.
 */
void		 dlog_free(struct dlog *);

/*
 * Format one record as a JSON object without a trailing newline into buf.
 * Returns the length written, or the length needed (>= bufsz) when it did
 * not fit -- like snprintf.  Exposed for unit tests; the writer uses it.
 *
 * {"query_timestamp":"2026-11-23T10:34:25.123Z","srcaddr":"127.0.0.1",
 *  "srcport":40000,"transport":"UDP","query_name":"example.com.",
 *  "query_type":"A","query_class":"IN","rcode":"NOERROR",
 *  "answers":[{"Rdata":"192.0.2.1","Type":"A","Class":"IN"}],
 *  "firewall_rule_action":"ALLOW","firewall_rule_group_id":null,
 *  "rule":null,"firewall_domain_list_id":null,"matched_name":null,
 *  "reason":"default",
 *  "upstream":"127.0.0.1:5300","cache":"miss","latency_us":812,"id":0}
 *
 * query_name is the DNS presentation form (\DDD escapes, escaped dots) of
 * the wire name, then JSON-escaped; null when no question was parsed, as are
 * query_type/query_class.  rcode is null when no reply was sent; answers is
 * [] when none.  firewall_rule_action is "NONE" for queries that never
 * reached policy.  upstream and cache are omitted when not set.
 */
size_t		 dlog_format(const struct dlog_rec *, const uint8_t *reply,
		    size_t reply_len, char *buf, size_t bufsz);

/*
 * Append the JSON string-body escape of src[0..len) to out (no quotes):
 * '"' -> \", '\\' -> \\, \n \t \r \b \f in their short forms, other bytes
 * below 0x20 and bytes >= 0x7f -> \u00XX, so the output is always valid
 * ASCII JSON.  Returns bytes that the escaped text
 * needs; writes at most outsz-1 and NUL-terminates when outsz > 0.
 */
size_t		 dlog_json_escape(const char *src, size_t len, char *out,
		    size_t outsz);

#endif /* DNSWARD_DLOG_H */
