/*
 * server.c -- workers: listening sockets, client connections, replies,
 * the pool of held queries, and draining on shutdown.  See server.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "addr.h"
#include "config.h"
#include "dlog.h"
#include "forward.h"
#include "log.h"
#include "policy.h"
#include "query.h"
#include "recurse.h"
#include "server.h"
#include "zone.h"

/*
 * Replies a TCP client may leave unread before we stop reading its
 * queries; reading goes on when the output drains to the low mark.
 */
#define TCP_OUT_MAX		(64 * 1024)
#define TCP_OUT_LOW		(16 * 1024)
/* Datagrams read per wakeup of a listening socket. */
#define TCP_BACKLOG		256
/* Drain bound beyond the longest a forwarded query can take. */
#define DRAIN_SLACK_MS		1000

struct tcp_conn {
	LIST_ENTRY(tcp_conn)	 entry;
	struct worker		*w;
	struct bufferevent	*bev;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	unsigned		 inflight;
	int			 paused;	/* reading stopped: pipeline full */
	int			 closing;	/* answer what is pending, close */
	int			 dead;		/* client gone: discard replies */
};

static void	tcp_conn_free(struct tcp_conn *);
static void	tcp_conn_close(struct tcp_conn *);
static void	worker_check_drained(struct worker *);
static void	worker_refresh_cb(evutil_socket_t, short, void *);

static void
scratch_init(struct worker *w, enum dlog_transport t)
{
	struct query	*q = &w->scratch;

	q->w = w;
	q->gen = w->gen;
	q->transport = t;
	q->udp_fd = -1;
	q->has_dst = 0;
	q->conn = NULL;
	clock_gettime(CLOCK_REALTIME, &q->t_real);
	clock_gettime(CLOCK_MONOTONIC, &q->t_mono);
	q->id = 0;
	q->opcode = q->rd = q->cd = q->ad = 0;
	q->has_question = 0;
	q->bad_sections = 0;
	memset(&q->edns, 0, sizeof(q->edns));
	q->udp_limit = 512;
	q->action = DLOG_ACTION_NONE;
	q->reason = NULL;
	q->rcode = -1;
	q->has_pres = 0;
	q->matchedlen = 0;
	q->chase = 0;
	q->cache = NULL;
	q->stale = 0;
	q->fwd.fd = -1;
	q->fwd.bev = NULL;
	q->fwd.tcp = 0;
	q->fwd.last_up = -1;
	q->recursion = 0;
	q->rec_active = 0;
	q->zone = NULL;
	q->backend = BACKEND_DEFAULT;
	q->zone_log = NULL;
	q->fallback = 0;
	q->visit_fallback = 0;
	q->prev_raw = 0;
	q->hops = 0;
	q->local = 0;
	q->hop_len = 0;
	q->prev = NULL;
	q->prev_len = 0;
}

/* ---- UDP ---------------------------------------------------------- */

static void
udp_get_dst(struct query *q, struct msghdr *msg)
{
	struct cmsghdr	*c;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	 pi;
			struct sockaddr_in	*s = (struct sockaddr_in *)&q->dst;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s, 0, sizeof(*s));
			s->sin_family = AF_INET;
			s->sin_addr = pi.ipi_addr;
			q->dst_ifindex = pi.ipi_ifindex;
			q->has_dst = 1;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	 pi;
			struct sockaddr_in6	*s = (struct sockaddr_in6 *)&q->dst;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s, 0, sizeof(*s));
			s->sin6_family = AF_INET6;
			s->sin6_addr = pi.ipi6_addr;
			q->dst_ifindex = (int)pi.ipi6_ifindex;
			q->has_dst = 1;
		}
	}
}

/*
 * Describe a reply to q in msg: to the client, from the address the query
 * came to (wildcard listeners), with the one iovec given.
 */
static void
udp_reply_msg(const struct query *q, struct msghdr *msg, struct iovec *iov,
    union udp_ctl *ctl)
{
	struct cmsghdr	*c;

	memset(msg, 0, sizeof(*msg));
	msg->msg_name = (void *)&q->client;
	msg->msg_namelen = q->clientlen;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	if (!q->has_dst)
		return;
	memset(ctl, 0, sizeof(*ctl));
	msg->msg_control = ctl->buf;
	c = &ctl->hdr;
	if (q->dst.ss_family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)&q->dst)->sin_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = ((const struct sockaddr_in6 *)&q->dst)->sin6_addr;
		pi.ipi6_ifindex = (unsigned)q->dst_ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

/* Send the replies queued during a receive batch: one sendmmsg(2). */
static void
udp_flush(struct worker *w)
{
	struct udp_batch	*b = &w->batch;
	unsigned		 done = 0;
	int			 n;

	while (done < b->ntx) {
		n = sendmmsg(b->fd, b->txm + done, b->ntx - done, 0);
		if (n > 0)
			done += (unsigned)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else {
			/* This one cannot go (e.g. EAGAIN): drop it, go on. */
			done++;
			STATS_INC(w->stats.send_errors);
		}
	}
	b->ntx = 0;
}

/*
 * Read a batch of datagrams with recvmmsg(2) and handle each; replies made
 * while handling them are queued (udp_send) and leave together with
 * sendmmsg(2).  A few batches per wake-up, so one busy socket does not
 * starve the others.
 */
static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct udp_batch	*b = &w->batch;
	int			 round, n, i;

	worker_refresh(w);
	for (round = 0; round < UDP_READ_ROUNDS && !w->stopping; round++) {
		for (i = 0; i < UDP_BATCH; i++) {
			struct msghdr *m = &b->rxm[i].msg_hdr;

			b->rxiov[i].iov_base = b->rx[i];
			b->rxiov[i].iov_len = UDP_SLOT;
			memset(m, 0, sizeof(*m));
			m->msg_name = &b->rxpeer[i];
			m->msg_namelen = sizeof(b->rxpeer[i]);
			m->msg_iov = &b->rxiov[i];
			m->msg_iovlen = 1;
			m->msg_control = b->rxctl[i].buf;
			m->msg_controllen = sizeof(b->rxctl[i].buf);
		}
		n = recvmmsg(fd, b->rxm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;		/* EAGAIN, or an error to retry later */
		b->fd = fd;
		b->active = 1;
		for (i = 0; i < n; i++) {
			struct query	*q = &w->scratch;
			struct msghdr	*m = &b->rxm[i].msg_hdr;
			size_t		 len = b->rxm[i].msg_len;

			scratch_init(w, DLOG_UDP);
			/*
			 * Longer than a slot: the kernel cut it, so what we
			 * have is not the message: FORMERR, as for trailing
			 * bytes.
			 */
			if (m->msg_flags & MSG_TRUNC)
				q->bad_sections = 1;
			memcpy(&q->client, &b->rxpeer[i], m->msg_namelen);
			q->clientlen = m->msg_namelen;
			q->udp_fd = fd;
			udp_get_dst(q, m);
			query_receive(q, b->rx[i], len > UDP_SLOT ? UDP_SLOT :
			    len);
		}
		b->active = 0;
		udp_flush(w);
		if (n < UDP_BATCH)
			break;
	}
}

static void
udp_send(struct query *q, const uint8_t *pkt, size_t len)
{
	struct worker		*w = q->w;
	struct udp_batch	*b = &w->batch;
	struct iovec		 iov = { (void *)pkt, len };
	union udp_ctl		 ctl;
	struct msghdr		 msg;
	unsigned		 k;

	if (b->active && q->udp_fd == b->fd && b->ntx < UDP_BATCH &&
	    len <= UDP_SLOT) {
		/* Queued: the scratch query and sbuf are reused at once. */
		k = b->ntx++;
		memcpy(b->tx[k], pkt, len);
		memcpy(&b->txpeer[k], &q->client, q->clientlen);
		b->txiov[k].iov_base = b->tx[k];
		b->txiov[k].iov_len = len;
		udp_reply_msg(q, &b->txm[k].msg_hdr, &b->txiov[k],
		    &b->txctl[k]);
		b->txm[k].msg_hdr.msg_name = &b->txpeer[k];
		return;
	}
	udp_reply_msg(q, &msg, &iov, &ctl);
	if (sendmsg(q->udp_fd, &msg, 0) == -1)
		STATS_INC(w->stats.send_errors);
}

static int
sock_listen(const struct addr *a, int type, char *err, size_t errsz)
{
	char	 as[ADDR_STRLEN];
	int	 fd, on = 1;

	addr_str(a, as, sizeof(as));
	fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errsz, "listen %s: socket: %s", as,
		    strerror(errno));
		return -1;
	}
	/*
	 * TCP: rebind while old connections sit in TIME_WAIT.  Not on UDP,
	 * where it would let a foreign socket share the port silently.
	 */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* Every worker binds the same address; the kernel spreads load. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	/*
	 * A UDP receive buffer that holds a burst: the default (~208 KB,
	 * some 270 queries) overflows when a worker pauses 25 ms at 10k
	 * qps.  Root may go past net.core.rmem_max (SO_RCVBUFFORCE); else
	 * the kernel caps the size silently.  Best effort either way.
	 */
	if (type == SOCK_DGRAM) {
		int	 rcvbuf = UDP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		    sizeof(rcvbuf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf));
	}
	if (type == SOCK_DGRAM && a->ss.ss_family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1)
		goto fail;
	if (type == SOCK_DGRAM && a->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
	    sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		snprintf(err, errsz, "listen %s: bind: %s", as,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
fail:
	snprintf(err, errsz, "listen %s: setsockopt: %s", as, strerror(errno));
	close(fd);
	return -1;
}

/* ---- TCP ---------------------------------------------------------- */

static void
tcp_read(struct bufferevent *bev, void *arg)
{
	struct tcp_conn	*c = arg;
	struct worker	*w = c->w;
	struct evbuffer	*in = bufferevent_get_input(bev);

	worker_refresh(w);
	while (!c->closing && !c->dead) {
		uint8_t		 lenbuf[2];
		size_t		 mlen;
		struct query	*q = &w->scratch;
		unsigned char	*p;

		if (evbuffer_copyout(in, lenbuf, 2) != 2)
			return;
		mlen = wire_get16(lenbuf);
		if (evbuffer_get_length(in) < mlen + 2)
			return;
		if (c->inflight >= TCP_MAX_PIPELINE ||
		    evbuffer_get_length(bufferevent_get_output(bev)) >=
		    TCP_OUT_MAX) {
			/*
			 * Back-pressure: a client that does not read its
			 * answers (or waits on too many) is not read either.
			 */
			bufferevent_disable(bev, EV_READ);
			c->paused = 1;
			return;
		}
		if ((p = evbuffer_pullup(in, (ssize_t)mlen + 2)) == NULL)
			return;
		scratch_init(w, DLOG_TCP);
		memcpy(&q->client, &c->peer, sizeof(q->client));
		q->clientlen = c->peerlen;
		q->conn = c;
		query_receive(q, p + 2, mlen);
		evbuffer_drain(in, mlen + 2);
	}
}

/* Read again after back-pressure, if the reason for it has gone. */
static void
tcp_resume(struct tcp_conn *c)
{
	if (!c->paused || c->closing || c->dead ||
	    c->inflight >= TCP_MAX_PIPELINE ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >= TCP_OUT_MAX)
		return;
	c->paused = 0;
	bufferevent_enable(c->bev, EV_READ);
	/* Frames may already wait in the input buffer. */
	tcp_read(c->bev, c);
}

/*
 * The client's output drained to the low mark: a closing connection may
 * go now, a paused one read on.
 */
static void
tcp_written(struct bufferevent *bev, void *arg)
{
	struct tcp_conn	*c = arg;

	if (c->closing && c->inflight == 0 &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		tcp_conn_free(c);
	else
		tcp_resume(c);
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn	*c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->inflight > 0) {
		/* Not idle: it waits for answers. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->inflight > 0) {
		/* Half-closed: the client may still read its answers. */
		tcp_conn_close(c);
		return;
	}
	/* Error, idle or write timeout: nothing more goes out. */
	c->dead = 1;
	if (c->inflight == 0)
		tcp_conn_free(c);
	else
		bufferevent_disable(bev, EV_READ | EV_WRITE);
}

static void
tcp_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker		*w = arg;
	const struct config	*cfg;
	struct tcp_conn		*c;
	struct timeval		 idle;

	worker_refresh(w);
	cfg = w->gen->cfg;
	idle.tv_sec = cfg->tcp_idle_timeout_ms / 1000;
	idle.tv_usec = (cfg->tcp_idle_timeout_ms % 1000) * 1000;

	if (w->stopping ||
	    atomic_fetch_add(&w->d->tcp_conns, 1) >= cfg->tcp_max_connections) {
		if (!w->stopping)
			atomic_fetch_sub(&w->d->tcp_conns, 1);
		STATS_INC(w->stats.tcp_rejected);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		close(fd);
		atomic_fetch_sub(&w->d->tcp_conns, 1);
		STATS_INC(w->stats.tcp_rejected);
		return;
	}
	c->w = w;
	memcpy(&c->peer, sa, (size_t)salen < sizeof(c->peer) ?
	    (size_t)salen : sizeof(c->peer));
	c->peerlen = (socklen_t)salen;
	LIST_INSERT_HEAD(&w->conns, c, entry);
	STATS_INC(w->stats.tcp_accepted);
	bufferevent_setcb(c->bev, tcp_read, tcp_written, tcp_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, TCP_OUT_LOW, 0);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
tcp_conn_free(struct tcp_conn *c)
{
	struct worker	*w = c->w;

	LIST_REMOVE(c, entry);
	bufferevent_free(c->bev);
	atomic_fetch_sub(&w->d->tcp_conns, 1);
	free(c);
	if (w->stopping)
		worker_check_drained(w);
}

/* Stop reading; close as soon as pending answers went out. */
static void
tcp_conn_close(struct tcp_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (c->inflight == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		tcp_conn_free(c);
}

static void
tcp_send(struct query *q, const uint8_t *pkt, size_t len)
{
	struct tcp_conn	*c = q->conn;
	uint8_t		 lenbuf[2];

	/* A length that does not fit the 2-byte prefix is never framed. */
	if (c->dead || len > DNS_MAX_UDP) {
		STATS_INC(q->w->stats.send_errors);
		return;
	}
	wire_put16(lenbuf, (uint16_t)len);
	if (bufferevent_write(c->bev, lenbuf, 2) == -1 ||
	    bufferevent_write(c->bev, pkt, len) == -1)
		STATS_INC(q->w->stats.send_errors);
}

static int
tcp_listen(struct worker *w, const struct addr *a, char *err, size_t errsz)
{
	struct evconnlistener	*l;
	int			 fd;

	if ((fd = sock_listen(a, SOCK_STREAM, err, errsz)) == -1)
		return -1;
	l = evconnlistener_new(w->base, tcp_accept, w,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, TCP_BACKLOG, fd);
	if (l == NULL) {
		snprintf(err, errsz, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	w->tcp[w->ntcp++] = l;
	return 0;
}

/* ---- queries ------------------------------------------------------ */

void
server_send(struct query *q, const uint8_t *pkt, size_t len)
{
	if (q->transport == DLOG_TCP)
		tcp_send(q, pkt, len);
	else
		udp_send(q, pkt, len);
}

struct query *
server_hold(struct query *scratch)
{
	struct worker	*w = scratch->w;
	struct query	*q;

	if ((q = TAILQ_FIRST(&w->pool)) != NULL)
		TAILQ_REMOVE(&w->pool, q, entry);
	else if (w->ninflight >= WORKER_MAX_INFLIGHT ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		STATS_INC(w->stats.overload);
		return NULL;
	}
	/* Events in q are idle (deleted); copying over them is safe. */
	memcpy(q, scratch, sizeof(*q));
	gen_ref(q->gen);
	TAILQ_INSERT_TAIL(&w->inflight, q, entry);
	w->ninflight++;
	if (q->conn != NULL)
		q->conn->inflight++;
	return q;
}

void
server_release(struct query *q)
{
	struct worker	*w = q->w;
	struct tcp_conn	*c = q->conn;

	if (q == &w->scratch)
		return;
	gen_unref(q->gen);
	q->gen = NULL;
	TAILQ_REMOVE(&w->inflight, q, entry);
	w->ninflight--;
	TAILQ_INSERT_HEAD(&w->pool, q, entry);
	if (c != NULL) {
		c->inflight--;
		if (c->dead && c->inflight == 0)
			tcp_conn_free(c);
		else if (c->closing && c->inflight == 0)
			tcp_conn_close(c);
		else
			tcp_resume(c);
	}
	if (w->stopping)
		worker_check_drained(w);
}

/* ---- generations ------------------------------------------------- */

/*
 * Upstream tries one query may make in the worst case: the default
 * upstreams, or a zone's servers then its fallback (its own servers or the
 * default upstreams).
 */
static long
worst_tries(const struct config *cfg)
{
	size_t	 i, n = cfg->nupstreams, z;

	for (i = 0; i < cfg->nzones; i++) {
		z = cfg->zones[i].nforward + (cfg->zones[i].nfallback > 0 ?
		    cfg->zones[i].nfallback : cfg->nupstreams);
		if (z > n)
			n = z;
	}
	return (long)n;
}

long
gen_budget_ms(const struct config *cfg)
{
	long	 ms = (long)cfg->timeout_ms * worst_tries(cfg) * 2;

	if (cfg->mode == RESOLVER_RECURSE)
		ms += REC_DEADLINE_MS;
	return ms;
}

struct gen *
gen_new(struct config *cfg, struct zones *zones, struct policy *policy,
    unsigned number)
{
	struct gen	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->cfg_refs = malloc(sizeof(*g->cfg_refs))) == NULL) {
		free(g);
		return NULL;
	}
	atomic_init(g->cfg_refs, 1);
	g->cfg = cfg;
	g->zones = zones;
	g->zones_epoch = number;
	g->budget_ms = gen_budget_ms(cfg);
	g->policy = policy;
	g->number = number;
	clock_gettime(CLOCK_REALTIME, &g->made);
	atomic_init(&g->refs, 1);
	return g;
}

struct gen *
gen_new_same_config(struct gen *prev, struct policy *policy, unsigned number)
{
	struct gen	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cfg = prev->cfg;
	g->cfg_refs = prev->cfg_refs;
	g->zones = prev->zones;
	g->zones_epoch = prev->zones_epoch;
	g->budget_ms = prev->budget_ms;
	atomic_fetch_add_explicit(g->cfg_refs, 1, memory_order_relaxed);
	g->policy = policy;
	g->number = number;
	clock_gettime(CLOCK_REALTIME, &g->made);
	atomic_init(&g->refs, 1);
	return g;
}

void
gen_ref(struct gen *g)
{
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
}

static void
gen_free(struct gen *g)
{
	log_info("generation %u released", g->number);
	policy_free(g->policy);
	if (atomic_fetch_sub_explicit(g->cfg_refs, 1,
	    memory_order_acq_rel) == 1) {
		zones_free(g->zones);
		config_release(g->cfg);
		free(g->cfg);
		free(g->cfg_refs);
	}
	free(g);
}

void
gen_unref(struct gen *g)
{
	struct daemon	*d;

	if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	d = g->d;
	if (d != NULL) {
		pthread_mutex_lock(&d->reap_lock);
		if (d->reap_ev != NULL) {
			g->next_dead = d->dead;
			d->dead = g;
			event_active(d->reap_ev, EV_READ, 0);
			g = NULL;
		}
		pthread_mutex_unlock(&d->reap_lock);
	}
	if (g != NULL)
		gen_free(g);
}

void
daemon_reap(struct daemon *d)
{
	struct gen	*g, *next;

	pthread_mutex_lock(&d->reap_lock);
	g = d->dead;
	d->dead = NULL;
	pthread_mutex_unlock(&d->reap_lock);
	for (; g != NULL; g = next) {
		next = g->next_dead;
		gen_free(g);
	}
}

void
daemon_set_gen(struct daemon *d, struct gen *g)
{
	struct gen	*old;

	if (g != NULL)
		g->d = d;
	pthread_mutex_lock(&d->gen_lock);
	old = atomic_load_explicit(&d->gen, memory_order_relaxed);
	if (g != NULL)
		atomic_store_explicit(&d->zones_epoch, g->zones_epoch,
		    memory_order_release);
	atomic_store_explicit(&d->gen, g, memory_order_release);
	pthread_mutex_unlock(&d->gen_lock);
	if (old != NULL)
		gen_unref(old);
}

struct gen *
daemon_get_gen(struct daemon *d)
{
	struct gen	*g;

	pthread_mutex_lock(&d->gen_lock);
	g = atomic_load_explicit(&d->gen, memory_order_relaxed);
	gen_ref(g);
	pthread_mutex_unlock(&d->gen_lock);
	return g;
}

/*
 * Called where a worker starts on new traffic: one relaxed load when
 * nothing changed; the reference is taken under the daemon's lock, so the
 * generation cannot be freed between the load and the reference.
 */
void
worker_refresh(struct worker *w)
{
	struct gen	*g;
	size_t		 i;

	if (atomic_load_explicit(&w->d->gen, memory_order_relaxed) == w->gen)
		return;
	g = daemon_get_gen(w->d);
	gen_unref(w->gen);
	w->gen = g;
	/* A slot given to another address starts with a clean health. */
	for (i = 0; i < STATS_MAX_UPSTREAMS; i++) {
		unsigned e = atomic_load_explicit(&w->d->slot_epoch[i],
		    memory_order_acquire);

		if (e == w->ups_epoch[i])
			continue;
		w->ups_epoch[i] = e;
		w->ups[i].fails = 0;
		w->ups[i].bogus = 0;
		memset(&w->ups[i].down_until, 0, sizeof(w->ups[i].down_until));
		atomic_store_explicit(&w->ups[i].down_until_ms, 0,
		    memory_order_relaxed);
		atomic_store_explicit(&w->ups[i].srtt_us, 0,
		    memory_order_relaxed);
	}
}

/* ---- life cycle --------------------------------------------------- */

static void
worker_check_drained(struct worker *w)
{
	if (w->ninflight == 0 && LIST_EMPTY(&w->conns))
		event_base_loopexit(w->base, NULL);
}

/* The drain bound passed: whatever is still in flight ends now. */
static void
worker_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct query	*q;
	struct tcp_conn	*c;

	while ((q = TAILQ_FIRST(&w->inflight)) != NULL) {
		fwd_cleanup(q);
		rec_cancel(q);
		query_fail(q, -1, -1, "shutdown");
	}
	while ((c = LIST_FIRST(&w->conns)) != NULL)
		tcp_conn_free(c);
	event_base_loopexit(w->base, NULL);
}

static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	const struct config	*cfg = w->gen->cfg;
	long			 ms = gen_budget_ms(cfg) + DRAIN_SLACK_MS;
	struct timeval		 tv;
	struct tcp_conn		*c, *next;
	size_t			 i;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;

	w->stopping = 1;
	/* Stop reading; the sockets stay open for replies still to come. */
	for (i = 0; i < w->nudp; i++)
		event_del(w->udp[i].ev);
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_free(w->tcp[i]);
	w->ntcp = 0;
	for (c = LIST_FIRST(&w->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		tcp_conn_close(c);
	}
	w->ev_drain = evtimer_new(w->base, worker_drain_timeout, w);
	if (w->ev_drain != NULL)
		evtimer_add(w->ev_drain, &tv);
	worker_check_drained(w);
}

static int
udp_listen(struct worker *w, const struct addr *a, char *err, size_t errsz)
{
	struct udp_listener	*u = &w->udp[w->nudp];

	if ((u->fd = sock_listen(a, SOCK_DGRAM, err, errsz)) == -1)
		return -1;
	u->ev = event_new(w->base, u->fd, EV_READ | EV_PERSIST, udp_read, w);
	if (u->ev == NULL || event_add(u->ev, NULL) == -1) {
		snprintf(err, errsz, "listen: cannot add event");
		if (u->ev != NULL)
			event_free(u->ev);
		close(u->fd);
		return -1;
	}
	w->nudp++;
	return 0;
}

struct worker *
worker_new(struct daemon *d, unsigned id, char *err, size_t errsz)
{
	struct worker	*w;
	size_t		 i;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	w->id = id;
	w->d = d;
	w->gen = daemon_get_gen(d);
	LIST_INIT(&w->conns);
	TAILQ_INIT(&w->inflight);
	TAILQ_INIT(&w->pool);
	w->scratch.w = w;
	if ((w->base = event_base_new()) == NULL ||
	    (w->ev_stop = event_new(w->base, -1, 0, worker_stop_cb,
	    w)) == NULL ||
	    (w->ev_refresh = event_new(w->base, -1, 0, worker_refresh_cb,
	    w)) == NULL) {
		snprintf(err, errsz, "cannot create event loop");
		goto fail;
	}
	if (w->gen->cfg->mode == RESOLVER_RECURSE &&
	    (w->rec = rec_new(w->base, w->gen->cfg, err, errsz)) == NULL)
		goto fail;
	for (i = 0; i < w->gen->cfg->nlisten; i++) {
		const struct addr *a = &w->gen->cfg->listen[i].addr;

		if (udp_listen(w, a, err, errsz) == -1 ||
		    tcp_listen(w, a, err, errsz) == -1)
			goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int
worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -1;
	w->started = 1;
	return 0;
}

static void
worker_refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	worker_refresh(arg);
}

void
worker_wake(struct worker *w)
{
	event_active(w->ev_refresh, 0, 0);
}

void
worker_stop(struct worker *w)
{
	event_active(w->ev_stop, EV_READ, 0);
}

void
worker_free(struct worker *w)
{
	struct query	*q;
	struct tcp_conn	*c;
	size_t		 i;

	if (w == NULL)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	while ((q = TAILQ_FIRST(&w->inflight)) != NULL) {
		fwd_cleanup(q);
		if (w->rec != NULL)
			rec_cancel(q);
		gen_unref(q->gen);
		TAILQ_REMOVE(&w->inflight, q, entry);
		free(q);
	}
	while ((q = TAILQ_FIRST(&w->pool)) != NULL) {
		TAILQ_REMOVE(&w->pool, q, entry);
		free(q);
	}
	while ((c = LIST_FIRST(&w->conns)) != NULL) {
		LIST_REMOVE(c, entry);
		bufferevent_free(c->bev);
		free(c);
	}
	for (i = 0; i < w->nudp; i++) {
		event_free(w->udp[i].ev);
		close(w->udp[i].fd);
	}
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_free(w->tcp[i]);
	if (w->ev_drain != NULL)
		event_free(w->ev_drain);
	if (w->ev_stop != NULL)
		event_free(w->ev_stop);
	if (w->ev_refresh != NULL)
		event_free(w->ev_refresh);
	rec_free(w->rec);	/* its events live on the base */
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->gen != NULL)
		gen_unref(w->gen);
	free(w);
}
