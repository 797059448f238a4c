/*
 * stats.h -- the daemon's counters, and their two renderings: Prometheus
 * text (the metrics endpoint) and JSON (dnsward-ctl stats).
 *
 * Each worker owns a struct stats_counters and is its only writer: it adds
 * with a relaxed load and store (STATS_ADD), no locked instruction on the
 * query path.  Readers (the main thread, rendering) load each field with
 * a relaxed atomic load and sum over the workers; a reader may see one
 * counter a query ahead of another, never a torn value.
 *
 * What the whole daemon looks like at one moment is a struct
 * stats_snapshot, filled by the main thread (main.c) from the workers'
 * counters, the cache, the decision log and the current generation; the
 * renderers only format a snapshot, so they are unit-tested on their own.
 */
#ifndef DNSWARD_STATS_H
#define DNSWARD_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct evbuffer;

/* Add n to a counter of the calling worker's own struct stats_counters. */
#define STATS_ADD(c, n)	atomic_store_explicit(&(c),			\
	atomic_load_explicit(&(c), memory_order_relaxed) + (n),		\
	memory_order_relaxed)
#define STATS_INC(c)	STATS_ADD(c, 1)
#define STATS_GET(c)	atomic_load_explicit(&(c), memory_order_relaxed)

/* Query types counted by name; every other type counts as "other". */
#define STATS_QTYPES	18	/* 17 named + other */
#define STATS_QTYPE_OTHER (STATS_QTYPES - 1)
/*
 * RCODE 0..15 by name, and "none": no reply was sent (dropped).  An
 * extended RCODE (BADVERS is 16) counts by the 4 bits of the header, which
 * is what the client's header carries.
 */
#define STATS_RCODES	17
#define STATS_RCODE_NONE 16
/* dlog_action: NONE, ALLOW, BLOCK, ALERT. */
#define STATS_ACTIONS	4
/*
 * Decision reasons (the decision log's "reason"); an unknown text (or
 * NULL) counts as "other" (the last index).  A few slots before "other"
 * are free for reasons to come: their name is NULL, and renderings skip
 * them.
 */
#define STATS_REASONS	28
#define STATS_REASON_OTHER (STATS_REASONS - 1)
/*
 * Upstream RTT histogram: upper bounds in microseconds, then +Inf.  An
 * RTT equal to a bound falls in that bound's bucket (Prometheus "le").
 */
#define STATS_RTT_BUCKETS 13

/* "A", .. "other" */
extern const char *const stats_qtype_names[STATS_QTYPES];
/* "NOERROR", .. "none" */
extern const char *const stats_rcode_names[STATS_RCODES];
/* "none", "allow", "block", "alert" */
extern const char *const stats_action_names[STATS_ACTIONS];
/* "default", .. "other"; NULL: a free slot */
extern const char *const stats_reason_names[STATS_REASONS];
/* "udp", "tcp" (enum dlog_transport) */
extern const char *const stats_transport_names[2];
/* Bucket upper bounds in microseconds; the last bucket is +Inf. */
extern const uint32_t stats_rtt_bounds_us[STATS_RTT_BUCKETS - 1];

/*
 * Index of a query type, RCODE (-1: none) or reason text.  Cheap enough
 * for once per query: a switch, a mask, a short scan (the most frequent
 * reasons first).
 */
unsigned	stats_qtype_index(uint16_t qtype);
unsigned	stats_rcode_index(int rcode);
unsigned	stats_reason_index(const char *reason);
/* Bucket of an RTT in microseconds. */
unsigned	stats_rtt_bucket(uint64_t us);

/* One upstream, as one worker saw it. */
struct stats_upstream {
	_Atomic uint64_t queries;	/* tries sent (UDP and TCP) */
	_Atomic uint64_t answers;	/* accepted replies */
	_Atomic uint64_t failures;	/* SERVFAIL/REFUSED, garbage, ICMP,
					   TCP errors: every failed try but
					   timeouts */
	_Atomic uint64_t timeouts;
	_Atomic uint64_t rtt[STATS_RTT_BUCKETS]; /* accepted replies */
	_Atomic uint64_t rtt_sum_us;
};

/*
 * Upstream slots: every address the daemon forwards to (default upstreams,
 * zone servers, fallback servers) has one slot for the daemon's life,
 * found by address when a generation is made; slot 0 is recursion.  A
 * worker's health and counters of an upstream are indexed by slot, so they
 * survive reloads that add or reorder upstreams.
 */
#define STATS_MAX_UPSTREAMS	128
#define STATS_SLOT_RECURSION	0

/* One worker's counters (single writer: that worker). */
struct stats_counters {
	_Atomic uint64_t transport[2];		/* queries received */
	_Atomic uint64_t qtype[STATS_QTYPES];	/* queries with a question */
	_Atomic uint64_t decision[STATS_ACTIONS][STATS_REASONS];
	_Atomic uint64_t rcode[STATS_RCODES];	/* replies (and none) */
	_Atomic uint64_t tcp_accepted;
	_Atomic uint64_t tcp_rejected;		/* over max-connections */
	_Atomic uint64_t overload;		/* too many held queries */
	_Atomic uint64_t send_errors;		/* replies the socket refused */
	struct stats_upstream up[STATS_MAX_UPSTREAMS];
};

/*
 * Sum of plain values (a snapshot's copy of the workers' counters).  Same
 * layout as struct stats_counters without the atomics.
 */
struct stats_upstream_sum {
	uint64_t	 queries, answers, failures, timeouts;
	uint64_t	 rtt[STATS_RTT_BUCKETS];
	uint64_t	 rtt_sum_us;
};

struct stats_sum {
	uint64_t	 transport[2];
	uint64_t	 qtype[STATS_QTYPES];
	uint64_t	 decision[STATS_ACTIONS][STATS_REASONS];
	uint64_t	 rcode[STATS_RCODES];
	uint64_t	 tcp_accepted, tcp_rejected, overload, send_errors;
	struct stats_upstream_sum up[STATS_MAX_UPSTREAMS];
};

/* Add one worker's counters into *sum (relaxed loads). */
void	stats_sum_add(struct stats_sum *sum, const struct stats_counters *);

#define STATS_MAX_FEEDS	CONFIG_MAX_FEEDS
#define STATS_ID_MAX	64

/* A feed as the current policy holds it. */
struct stats_feed {
	char		 id[STATS_ID_MAX];
	char		 format[16];	/* "plain", "rpz", ... */
	char		 path[256];
	uint64_t	 entries;
	uint64_t	 errors;	/* bad lines of the version in use */
	uint64_t	 refused;	/* versions refused since start (shrink
					   guard, unreadable file) */
	double		 loaded_at;	/* Unix time of the version in use */
	double		 load_seconds;
	char		 sha256[65];	/* of the file's bytes, hex */
	unsigned	 refresh_s;	/* 0: only on reload */
};

struct stats_upstream_info {
	char		 name[ADDR_STRLEN];	/* as configured */
	int		 up;		/* 0: every worker holds it down */
	double		 srtt_ms;	/* smoothed RTT; 0 when no answer yet */
};

struct stats_snapshot {
	const char	*version;
	double		 now;		/* Unix time */
	double		 start_time;	/* Unix time */
	unsigned	 generation;
	unsigned	 workers;

	struct stats_sum sum;

	int		 has_cache;
	uint64_t	 cache_hits, cache_misses, cache_stale;
	uint64_t	 cache_evictions, cache_entries, cache_bytes;
	uint64_t	 cache_max_bytes;

	uint64_t	 reloads_ok, reloads_failed;
	double		 last_reload;	/* Unix time of the last success; 0 */
	uint64_t	 feed_refreshes;	/* single-feed reloads done */

	int		 has_dlog;
	uint64_t	 dlog_written, dlog_dropped;

	uint64_t	 geo_errors;

	struct stats_feed feeds[STATS_MAX_FEEDS];
	size_t		 nfeeds;

	struct stats_upstream_info upstreams[STATS_MAX_UPSTREAMS];
	size_t		 nupstreams;
};

/*
 * Prometheus text exposition format 0.0.4 of a snapshot: HELP and TYPE
 * lines, names dnsward_*, counters ending in _total, label values
 * escaped (and made UTF-8).  Appended to out; 0, or -1 when out of
 * memory.
 *
 * Rows that are zero are left out where they would only be noise: a
 * decision (action, reason) is written once it happened, and
 * allow/default and block/default always; an RCODE beyond REFUSED once it
 * happened.  The cache families need has_cache, the decision log's
 * has_dlog; upstream and feed families are left out when there are none.
 * The RTT histogram's buckets are cumulative, its _sum exact seconds.
 */
int	stats_prometheus(const struct stats_snapshot *, struct evbuffer *out);

/*
 * The same counters as one JSON object, without a newline (dnsward-ctl
 * stats):
 *   {"version":..,"now":..,"start_time":..,"uptime_seconds":..,
 *    "generation":..,"workers":..,"queries":{"udp":..,"tcp":..},
 *    "qtypes":{"A":..,..},"decisions":{"none":{REASON:N,..},"allow":..,
 *    "block":..,"alert":..},"rcodes":{"NOERROR":..,..,"none":..},
 *    "tcp_connections":{"accepted":..,"rejected":..},"overload":..,
 *    "send_errors":..,
 *    "cache":{"hits":..,..} or null,
 *    "upstreams":[{"name":..,"up":true,"srtt_ms":..,"queries":..,
 *      "answers":..,"failures":..,"timeouts":..,
 *      "rtt_us":{"250":N,..,"inf":N},"rtt_sum_us":..}],
 *    "feeds":[{"id":..,"format":..,"path":..,"entries":..,"errors":..,
 *      "refused":..,"loaded_at":..,"load_seconds":..,"sha256":..,
 *      "refresh_seconds":..}],
 *    "reloads":{"success":..,"failure":..,"last":.. or null,
 *      "feed_refreshes":..},"decision_log":{"written":..,"dropped":..}
 *    or null,"geo_errors":..}
 * decisions lists only the reasons that happened; rtt_us counts per
 * bucket (not cumulative).  Always valid JSON: a double that is not
 * finite is null.  0, or -1 when out of memory.
 */
int	stats_json(const struct stats_snapshot *, struct evbuffer *out);

#endif /* DNSWARD_STATS_H */
