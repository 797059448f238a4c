/*
 * forward.c -- upstream queries over UDP (TCP on truncation), failover.
 * See forward.h.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "forward.h"
#include "log.h"
#include "query.h"
#include "server.h"
#include "stats.h"
#include "wire.h"

/* After this many consecutive failures an upstream is tried last ... */
#define FWD_DOWN_AFTER		3
/* ... for this long. */
#define FWD_DOWN_SECONDS	5
/* Datagrams read per wakeup of one upstream socket. */
#define FWD_READ_BURST		8
/* Random ports are drawn from [1024, 65535]. */
#define FWD_PORT_MIN		1024
#define FWD_BIND_TRIES		16

static void	fwd_try(struct query *);
static void	fwd_next(struct query *, int counted_as);

/*
 * Kernel CSPRNG, buffered per thread.  Requests of at most 256 bytes are
 * never cut short by signals (getrandom(2)), so the pool is that size;
 * bytes are handed out once, from pool[used] on.
 */
static void
fwd_random(void *out, size_t len)
{
	static __thread uint8_t	 pool[256];
	static __thread size_t	 used = sizeof(pool);
	uint8_t			*o = out;

	while (len > 0) {
		size_t	 n;

		if (used == sizeof(pool)) {
			ssize_t r = getrandom(pool, sizeof(pool), 0);

			if (r != (ssize_t)sizeof(pool)) {
				if (r == -1 && errno == EINTR)
					continue;
				fatal("getrandom");
			}
			used = 0;
		}
		n = len < sizeof(pool) - used ? len : sizeof(pool) - used;
		memcpy(o, pool + used, n);
		memset(pool + used, 0, n);
		used += n;
		o += n;
		len -= n;
	}
}

static uint16_t
fwd_random16(void)
{
	uint16_t	 v;

	fwd_random(&v, sizeof(v));
	return v;
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Milliseconds from now until *t (0 if past). */
static long
ms_until(const struct timespec *t)
{
	struct timespec	 now;
	long		 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

void
fwd_build_query(struct query *q, uint16_t id, uint16_t edns_size)
{
	uint8_t		*p = q->fwd.pkt;
	const uint8_t	*name;
	size_t		 n = DNS_HDR_LEN, namelen;

	memset(p, 0, DNS_HDR_LEN);
	wire_put16(p, id);
	p[2] = q->rd;				/* client's RD, opcode 0 */
	/*
	 * The client's CD; AD always (RFC 6840 5.7: "tell me whether it
	 * validated"), so that a cached answer carries AD for every later
	 * client that asks for it; query_rewrite() clears AD for clients
	 * that set neither AD nor DO.
	 */
	p[3] = (q->cd ? 0x10 : 0) | 0x20;
	wire_put16(p + 4, 1);
	wire_put16(p + 10, 1);
	name = query_upstream_name(q, &namelen);
	n = wire_put_question(p, n, name, namelen, q->q.qtype, q->q.qclass);
	/* Always EDNS upstream (bigger answers, fewer TCP retries). */
	n = wire_put_opt(p, n, edns_size, 0, q->edns.do_bit, 0);
	q->fwd.pktlen = (uint16_t)n;
}

int
fwd_accept(const struct query *q, const uint8_t *resp, size_t len,
    struct wire_edns *edns)
{
	struct wire_question	 rq;
	const uint8_t		*name;
	size_t			 namelen;

	name = query_upstream_name(q, &namelen);
	if (len < DNS_HDR_LEN || !DNS_QR(resp) ||
	    DNS_ID(resp) != q->fwd.id || DNS_OPCODE(resp) != 0 ||
	    DNS_QDCOUNT(resp) != 1)
		return 0;
	if (wire_question(resp, len, &rq) == -1 ||
	    rq.qtype != q->q.qtype || rq.qclass != q->q.qclass ||
	    !wire_name_equal(rq.name, rq.namelen, name, namelen))
		return 0;
	return wire_scan(resp, len, rq.end, edns) == 0;
}

/* Order of upstreams for a new query: healthy ones first, config order. */
static void
fwd_order(struct query *q)
{
	struct timespec		 now;
	size_t			 i;
	int			 pass;

	clock_gettime(CLOCK_MONOTONIC, &now);
	q->fwd.norder = 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < q->fwd.nups; i++) {
			int down = ts_before(&now,
			    &q->w->ups[q->fwd.ups[i].slot].down_until);

			if (down == pass)
				q->fwd.order[q->fwd.norder++] = (uint8_t)i;
		}
}

void
fwd_start(struct query *q, const struct config_addr *ups, size_t n)
{
	long	 total, left;

	if (n > CONFIG_MAX_UPSTREAMS)
		n = CONFIG_MAX_UPSTREAMS;
	q->fwd.ups = ups;
	q->fwd.nups = (uint8_t)n;
	q->recursion = 0;		/* the log names the last backend */
	total = (long)q->gen->cfg->timeout_ms * (long)n;
	/* Within the query's own budget (hops and fallbacks share it). */
	clock_gettime(CLOCK_MONOTONIC, &q->fwd.deadline);
	left = (long)(q->t_mono.tv_sec - q->fwd.deadline.tv_sec) * 1000 +
	    (q->t_mono.tv_nsec - q->fwd.deadline.tv_nsec) / 1000000 +
	    q->gen->budget_ms;
	if (left < total)
		total = left > 0 ? left : 0;
	q->fwd.fd = -1;
	q->fwd.bev = NULL;
	q->fwd.pos = 0;
	q->fwd.tcp = 0;
	q->fwd.last_up = -1;
	clock_gettime(CLOCK_MONOTONIC, &q->fwd.deadline);
	q->fwd.deadline.tv_sec += total / 1000;
	q->fwd.deadline.tv_nsec += (total % 1000) * 1000000;
	if (q->fwd.deadline.tv_nsec >= 1000000000) {
		q->fwd.deadline.tv_sec++;
		q->fwd.deadline.tv_nsec -= 1000000000;
	}
	fwd_order(q);
	fwd_try(q);
}

void
fwd_cleanup(struct query *q)
{
	if (q->fwd.fd != -1) {
		event_del(&q->fwd.ev_read);
		close(q->fwd.fd);
		q->fwd.fd = -1;
	}
	if (event_initialized(&q->fwd.ev_timer))
		event_del(&q->fwd.ev_timer);
	if (q->fwd.bev != NULL) {
		bufferevent_free(q->fwd.bev);
		q->fwd.bev = NULL;
	}
}

enum { FAIL_TIMEOUT, FAIL_ERROR, FAIL_RCODE };

void
fwd_count_answer(struct worker *w, int slot, const struct timespec *sent)
{
	struct fwd_upstream	*u = &w->ups[slot];
	struct stats_upstream	*su = &w->stats.up[slot];
	struct timespec		 now;
	uint64_t		 us;
	uint32_t		 srtt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (uint64_t)((now.tv_sec - sent->tv_sec) * 1000000 +
	    (now.tv_nsec - sent->tv_nsec) / 1000);
	STATS_INC(su->answers);
	STATS_INC(su->rtt[stats_rtt_bucket(us)]);
	STATS_ADD(su->rtt_sum_us, us);
	/* Smoothed as TCP does (RFC 6298): 7/8 old + 1/8 new. */
	if (us > UINT32_MAX / 2)
		us = UINT32_MAX / 2;
	srtt = STATS_GET(u->srtt_us);
	srtt = srtt == 0 ? (uint32_t)us : (uint32_t)((srtt * 7ULL + us) / 8);
	atomic_store_explicit(&u->srtt_us, srtt ? srtt : 1,
	    memory_order_relaxed);
}

static void
fwd_mark(struct query *q, int ok, int how)
{
	int			 slot = q->fwd.ups[q->fwd.last_up].slot;
	struct fwd_upstream	*u = &q->w->ups[slot];
	struct stats_upstream	*su = &q->w->stats.up[slot];

	if (ok) {
		fwd_count_answer(q->w, slot, &q->fwd.sent);
		u->fails = 0;
		return;
	}
	if (how == FAIL_TIMEOUT)
		STATS_INC(su->timeouts);
	else
		STATS_INC(su->failures);
	if (how != FAIL_RCODE && ++u->fails >= FWD_DOWN_AFTER) {
		clock_gettime(CLOCK_MONOTONIC, &u->down_until);
		u->down_until.tv_sec += FWD_DOWN_SECONDS;
		atomic_store_explicit(&u->down_until_ms,
		    (uint64_t)u->down_until.tv_sec * 1000 +
		    (uint64_t)u->down_until.tv_nsec / 1000000,
		    memory_order_relaxed);
	}
}

/* Hand a validated reply on: to TCP when cut, to the next on failure. */
static void
fwd_got(struct query *q, uint8_t *resp, size_t len,
    const struct wire_edns *edns)
{
	int	 rc = DNS_RCODE(resp);

	if (DNS_TC(resp) && !q->fwd.tcp) {
		fwd_cleanup(q);
		q->fwd.tcp = 1;
		fwd_try(q);
		return;
	}
	if ((rc == DNS_RCODE_SERVFAIL || rc == DNS_RCODE_REFUSED) &&
	    q->fwd.pos + 1 < q->fwd.norder && ms_until(&q->fwd.deadline) > 0) {
		fwd_mark(q, 0, FAIL_RCODE);
		fwd_next(q, -1);
		return;
	}
	fwd_mark(q, 1, 0);
	fwd_cleanup(q);
	query_resolved(q, resp, len, edns);
}

static void
fwd_udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct query		*q = arg;
	struct worker		*w = q->w;
	struct wire_edns	 edns;
	int			 i;

	for (i = 0; i < FWD_READ_BURST; i++) {
		ssize_t	 n = recv(fd, w->rbuf, sizeof(w->rbuf) - 1, 0);

		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ECONNREFUSED: ICMP port unreachable, say. */
			fwd_next(q, FAIL_ERROR);
			return;
		}
		if (fwd_accept(q, w->rbuf, (size_t)n, &edns)) {
			fwd_got(q, w->rbuf, (size_t)n, &edns);
			return;
		}
		/* Not ours (late, spoofed or broken): keep waiting. */
		w->ups[q->fwd.ups[q->fwd.last_up].slot].bogus++;
	}
}

static void
fwd_timeout(evutil_socket_t fd, short what, void *arg)
{
	fwd_next(arg, FAIL_TIMEOUT);
}

static int
fwd_bind_random(int fd, const struct sockaddr *up)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 i;

	for (i = 0; i < FWD_BIND_TRIES; i++) {
		uint16_t port = FWD_PORT_MIN +
		    fwd_random16() % (65536 - FWD_PORT_MIN);

		memset(&ss, 0, sizeof(ss));
		if (up->sa_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			len = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			len = sizeof(*s6);
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static int
fwd_udp_send(struct query *q, const struct addr *up, long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 fd;

	fd = socket(up->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (fwd_bind_random(fd, (const struct sockaddr *)&up->ss) == -1 ||
	    connect(fd, (const struct sockaddr *)&up->ss, up->len) == -1 ||
	    send(fd, q->fwd.pkt, q->fwd.pktlen, 0) == -1) {
		close(fd);
		return -1;
	}
	q->fwd.fd = fd;
	event_assign(&q->fwd.ev_read, q->w->base, fd, EV_READ | EV_PERSIST,
	    fwd_udp_read, q);
	event_add(&q->fwd.ev_read, NULL);
	evtimer_assign(&q->fwd.ev_timer, q->w->base, fwd_timeout, q);
	evtimer_add(&q->fwd.ev_timer, &tv);
	return 0;
}

static void
fwd_tcp_read(struct bufferevent *bev, void *arg)
{
	struct query		*q = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct wire_edns	 edns;
	uint8_t			 lenbuf[2];
	size_t			 len;

	if (evbuffer_copyout(in, lenbuf, 2) != 2)
		return;
	len = wire_get16(lenbuf);
	if (evbuffer_get_length(in) < len + 2)
		return;
	evbuffer_drain(in, 2);
	evbuffer_remove(in, q->w->rbuf, len);
	if (!fwd_accept(q, q->w->rbuf, len, &edns)) {
		/* One connection, one query: anything else is broken. */
		q->w->ups[q->fwd.ups[q->fwd.last_up].slot].bogus++;
		fwd_next(q, FAIL_ERROR);
		return;
	}
	fwd_got(q, q->w->rbuf, len, &edns);
}

static void
fwd_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED)
		return;
	fwd_next(arg, (what & BEV_EVENT_TIMEOUT) ? FAIL_TIMEOUT : FAIL_ERROR);
}

static int
fwd_tcp_send(struct query *q, const struct addr *up, long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	uint8_t		 lenbuf[2];

	q->fwd.bev = bufferevent_socket_new(q->w->base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (q->fwd.bev == NULL)
		return -1;
	bufferevent_setcb(q->fwd.bev, fwd_tcp_read, NULL, fwd_tcp_event, q);
	bufferevent_set_timeouts(q->fwd.bev, &tv, &tv);
	wire_put16(lenbuf, q->fwd.pktlen);
	if (bufferevent_write(q->fwd.bev, lenbuf, 2) == -1 ||
	    bufferevent_write(q->fwd.bev, q->fwd.pkt, q->fwd.pktlen) == -1 ||
	    bufferevent_enable(q->fwd.bev, EV_READ | EV_WRITE) == -1)
		return -1;
	if (bufferevent_socket_connect(q->fwd.bev,
	    (const struct sockaddr *)&up->ss, (int)up->len) == -1)
		return -1;
	/*
	 * The bufferevent timeouts are for inactivity; a peer trickling a
	 * byte at a time would dodge them.  The try's own timer bounds it.
	 */
	evtimer_assign(&q->fwd.ev_timer, q->w->base, fwd_timeout, q);
	evtimer_add(&q->fwd.ev_timer, &tv);
	return 0;
}

/* One try at the upstream q->fwd.order[q->fwd.pos]. */
static void
fwd_try(struct query *q)
{
	const struct config	*cfg = q->gen->cfg;
	long			 ms = ms_until(&q->fwd.deadline);
	int			 i, rc;

	if (ms <= 0 || q->fwd.pos >= q->fwd.norder) {
		fwd_cleanup(q);
		query_unresolved(q);
		return;
	}
	if (ms > (long)cfg->timeout_ms)
		ms = (long)cfg->timeout_ms;
	i = q->fwd.order[q->fwd.pos];
	q->fwd.last_up = i;
	STATS_INC(q->w->stats.up[q->fwd.ups[i].slot].queries);
	clock_gettime(CLOCK_MONOTONIC, &q->fwd.sent);
	q->fwd.id = fwd_random16();
	fwd_build_query(q, q->fwd.id, cfg->edns_buffer_size);
	if (q->fwd.tcp)
		rc = fwd_tcp_send(q, &q->fwd.ups[i].addr, ms);
	else
		rc = fwd_udp_send(q, &q->fwd.ups[i].addr, ms);
	if (rc == -1)
		fwd_next(q, FAIL_ERROR);
}

/* This try failed (how: FAIL_*, or -1 when already counted): go on. */
static void
fwd_next(struct query *q, int how)
{
	if (how >= 0)
		fwd_mark(q, 0, how);
	fwd_cleanup(q);
	q->fwd.tcp = 0;
	q->fwd.pos++;
	fwd_try(q);
}
