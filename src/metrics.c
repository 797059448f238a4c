/*
 * metrics.c -- the Prometheus endpoint on libevent's evhttp.  See
 * metrics.h.
 *
 * The socket is made here rather than by evhttp_bind_socket(), which
 * takes a host name: an IPv6 address listens on IPv6 only (a wildcard
 * "[::]" does not also take 0.0.0.0, which may be configured apart), the
 * socket is non-blocking and close-on-exec from the start, and every
 * failing step is named in the error.
 *
 * The endpoint runs on the main thread and is meant for a scraper, not
 * the public: requests are small and answered at once, and a connection
 * that sends nothing is closed after METRICS_TIMEOUT_S.  When accept()
 * fails (out of descriptors) the listener pauses for a second rather than
 * spin on a socket that stays readable.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"

#define METRICS_BACKLOG		16
#define METRICS_TIMEOUT_S	10
#define METRICS_MAX_HEADERS	8192	/* bytes of request line and headers */
#define METRICS_MAX_BODY	4096	/* a body is never wanted */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct evhttp		*http;
	struct evconnlistener	*listener;	/* evhttp's; for pausing */
	struct event		*ev_resume;	/* after an accept error */
	metrics_fn		 render;
	void			*arg;
	LIST_ENTRY(metrics)	 entry;
};

/*
 * Every endpoint, so that the listener's error callback (whose argument
 * is evhttp's, not ours) finds its own.  Used on the thread of the event
 * loop only, as everything here.
 */
LIST_HEAD(metrics_list, metrics);
static struct metrics_list metrics_live = LIST_HEAD_INITIALIZER(metrics_live);

static const char metrics_index[] =
    "<!DOCTYPE html>\n"
    "<html><head><title>dnsward</title></head>\n"
    "<body><h1>dnsward</h1>\n"
    "<p><a href=\"/metrics\">Metrics</a></p>\n"
    "</body></html>\n";

/*
 * evhttp (2.1) sends the body of a reply to HEAD as well, and no
 * Content-Length: a HEAD gets the length of what GET would send, and no
 * body.
 */
static void
metrics_send(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	char			 len[32];

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(h, "Content-Length", len);
		evhttp_send_reply(req, code, reason, NULL);
	} else
		evhttp_send_reply(req, code, reason, body);
}

/*
 * An error: "404 Not Found" as text.  Not evhttp_send_error(), which
 * drops the headers set so far (405 needs Allow).
 */
static void
metrics_error(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(body, "%d %s\n", code, reason) == -1) {
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(req, code, reason);
		return;
	}
	metrics_send(req, code, reason, "text/plain; charset=utf-8", body);
	evbuffer_free(body);
}

static void
metrics_serve(struct metrics *m, struct evhttp_request *req)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL) {
		metrics_error(req, HTTP_INTERNAL, "Internal Server Error");
		return;
	}
	if (m->render(m->arg, body) == -1)
		metrics_error(req, HTTP_INTERNAL, "Internal Server Error");
	else
		metrics_send(req, HTTP_OK, "OK", METRICS_CONTENT_TYPE, body);
	evbuffer_free(body);
}

static void
metrics_serve_index(struct evhttp_request *req)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, metrics_index, sizeof(metrics_index) - 1) ==
	    -1)
		metrics_error(req, HTTP_INTERNAL, "Internal Server Error");
	else
		metrics_send(req, HTTP_OK, "OK", "text/html; charset=utf-8",
		    body);
	if (body != NULL)
		evbuffer_free(body);
}

/* Every request: the method first, then the path (any query ignored). */
static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct metrics		*m = arg;
	const struct evhttp_uri	*uri;
	const char		*path = NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metrics_error(req, HTTP_BADMETHOD, "Method Not Allowed");
		return;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path != NULL && strcmp(path, "/metrics") == 0)
		metrics_serve(m, req);
	else if (path != NULL && strcmp(path, "/") == 0)
		metrics_serve_index(req);
	else
		metrics_error(req, HTTP_NOTFOUND, "Not Found");
}

static void
metrics_resume(evutil_socket_t fd, short ev, void *arg)
{
	struct metrics	*m = arg;

	evconnlistener_enable(m->listener);
}

static void
metrics_accept_error(struct evconnlistener *l, void *arg)
{
	struct metrics	*m;
	struct timeval	 tv = { 1, 0 };

	log_warnx("metrics: accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	LIST_FOREACH(m, &metrics_live, entry)
		if (m->listener == l)
			evtimer_add(m->ev_resume, &tv);
}

/* A listening TCP socket on a; -1 with the failing step in err. */
static int
metrics_socket(const struct addr *a, const char *text, char *err,
    size_t errsz)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&a->ss;
	const char		*step;
	int			 fd, on = 1;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		step = "socket";
		goto fail;
	}
	step = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	step = "bind";
	if (bind(fd, sa, addr_sockaddr_len(sa)) == -1)
		goto fail;
	step = "listen";
	if (listen(fd, METRICS_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errsz, "metrics.listen %s: %s: %s", text, step,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

struct metrics *
metrics_new(struct event_base *base, const struct addr *addr,
    const char *text, metrics_fn render, void *arg, char *err, size_t errsz)
{
	struct metrics			*m;
	struct evhttp_bound_socket	*bound;
	int				 fd = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto oom;
	m->render = render;
	m->arg = arg;
	if ((m->http = evhttp_new(base)) == NULL ||
	    (m->ev_resume = evtimer_new(base, metrics_resume, m)) == NULL)
		goto oom;
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	/* evhttp answers a method it was not allowed with 501: let every
	 * method through, and answer 405 ourselves. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, metrics_request, m);

	if ((fd = metrics_socket(addr, text, err, errsz)) == -1)
		goto fail;
	/* On success the listener owns fd (closed by evhttp_free()). */
	if ((bound = evhttp_accept_socket_with_handle(m->http, fd)) == NULL) {
		close(fd);
		goto oom;
	}
	m->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(m->listener, metrics_accept_error);
	LIST_INSERT_HEAD(&metrics_live, m, entry);
	return m;
oom:
	snprintf(err, errsz, "metrics.listen %s: out of memory", text);
fail:
	metrics_free(m);
	return NULL;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->listener != NULL)
		LIST_REMOVE(m, entry);
	if (m->http != NULL)
		evhttp_free(m->http);
	if (m->ev_resume != NULL)
		event_free(m->ev_resume);
	free(m);
}
