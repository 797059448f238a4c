/*
 * metrics.h -- the Prometheus endpoint: HTTP on metrics.listen, served by
 * libevent's evhttp on the main thread's event loop.
 *
 * GET /metrics answers 200 with the text exposition format
 * ("text/plain; version=0.0.4; charset=utf-8"), rendered at request time
 * by the caller's function; GET / answers a short HTML page linking to
 * /metrics; other paths 404; methods other than GET and HEAD 405.
 */
#ifndef DNSWARD_METRICS_H
#define DNSWARD_METRICS_H

struct addr;
struct event_base;
struct evbuffer;
struct metrics;

/* Render the metrics into out; 0, or -1 (the request gets 500). */
typedef int (*metrics_fn)(void *arg, struct evbuffer *out);

/*
 * Listen on addr (TCP).  Returns NULL with "metrics.listen ADDR: why" in
 * err (the address text is what the caller passes in text).
 */
struct metrics	*metrics_new(struct event_base *, const struct addr *addr,
		    const char *text, metrics_fn render, void *arg,
		    char *err, size_t errsz);

/* Stop listening and free; accepts NULL. */
void		 metrics_free(struct metrics *);

#endif /* DNSWARD_METRICS_H */
