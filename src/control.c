/*
 * control.c -- the control socket.  See control.h for the protocol.
 *
 * One listener (an evconnlistener on the unix socket) and at most
 * CONTROL_MAX_CLIENTS clients, each a bufferevent.  A client's life: read
 * up to one line, run its command, queue "ok"/"error" and the body, stop
 * reading, and free the client when the output has drained (or on any
 * error or timeout).  control_client_free() is the only way out.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "log.h"

/* After an accept error (out of descriptors): pause, do not spin. */
#define CONTROL_ACCEPT_PAUSE_S	1

struct control_client {
	LIST_ENTRY(control_client) entry;
	struct control		*ctl;
	struct bufferevent	*bev;
	int			 answered;	/* reply queued */
};

struct control {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct event		*ev_resume;	/* re-enables the listener */
	char			*path;
	int			 bound;		/* dev/ino: our socket file */
	dev_t			 dev;
	ino_t			 ino;
	const struct control_cmd *cmds;
	void			*arg;
	LIST_HEAD(control_clients, control_client) clients;
	unsigned		 nclients;
};

static void	control_client_free(struct control_client *);

/* ---- replies ------------------------------------------------------ */

/*
 * Queue the status line and body (a newline is added when the body lacks
 * its last one), stop reading, and let the write callback close.
 */
static void
control_reply(struct control_client *c, int ok, struct evbuffer *body)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct evbuffer_ptr	 p;
	size_t			 len = evbuffer_get_length(body);
	char			 last = '\n';

	c->answered = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (len > 0 && evbuffer_ptr_set(body, &p, len - 1,
	    EVBUFFER_PTR_SET) == 0)
		evbuffer_copyout_from(body, &p, &last, 1);
	if (evbuffer_add_printf(out, "%s\n", ok ? "ok" : "error") == -1 ||
	    evbuffer_add_buffer(out, body) == -1 ||
	    (last != '\n' && evbuffer_add(out, "\n", 1) == -1)) {
		log_warnx("control: out of memory");
		control_client_free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
control_error(struct control_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Answer "error" with one printf-formatted line. */
static void
control_error(struct control_client *c, const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;
	int		 rv;

	if ((body = evbuffer_new()) == NULL) {
		log_warnx("control: out of memory");
		control_client_free(c);
		return;
	}
	va_start(ap, fmt);
	rv = evbuffer_add_vprintf(body, fmt, ap);
	va_end(ap);
	if (rv == -1 || evbuffer_add(body, "\n", 1) == -1) {
		log_warnx("control: out of memory");
		evbuffer_free(body);
		control_client_free(c);
		return;
	}
	control_reply(c, 0, body);
	evbuffer_free(body);
}

/* "unknown command 'x'; commands: a, b, c" */
static void
control_unknown(struct control_client *c, const char *name)
{
	const struct control_cmd	*cmd;
	struct evbuffer			*body;
	int				 rv;

	if ((body = evbuffer_new()) == NULL) {
		log_warnx("control: out of memory");
		control_client_free(c);
		return;
	}
	rv = evbuffer_add_printf(body, "unknown command '%s'; commands:",
	    name);
	for (cmd = c->ctl->cmds; rv != -1 && cmd->name != NULL; cmd++)
		rv = evbuffer_add_printf(body, "%s %s",
		    cmd == c->ctl->cmds ? "" : ",", cmd->name);
	if (rv == -1 || evbuffer_add(body, "\n", 1) == -1) {
		log_warnx("control: out of memory");
		evbuffer_free(body);
		control_client_free(c);
		return;
	}
	control_reply(c, 0, body);
	evbuffer_free(body);
}

/* ---- requests ----------------------------------------------------- */

/*
 * Handle one request line, line[0..len) (the newline removed, NUL
 * terminated; the bytes are not checked yet, so it may hold NULs).
 */
static void
control_request(struct control_client *c, char *line, size_t len)
{
	struct control			*ctl = c->ctl;
	const struct control_cmd	*cmd;
	struct evbuffer			*body;
	char				*argv[CONTROL_MAX_ARGS + 1];
	char				*p, *last;
	size_t				 i;
	int				 argc = 0, rv;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len; i++) {
		unsigned char	 ch = line[i];

		if (ch != '\t' && (ch < 0x20 || ch > 0x7e)) {
			control_error(c, "non-printable byte 0x%02x at offset "
			    "%zu of the request", ch, i);
			return;
		}
	}
	for (p = strtok_r(line, " \t", &last); p != NULL;
	    p = strtok_r(NULL, " \t", &last)) {
		if (argc == CONTROL_MAX_ARGS) {
			control_error(c, "too many words in the request "
			    "(at most %d)", CONTROL_MAX_ARGS);
			return;
		}
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		control_error(c, "empty request");
		return;
	}
	for (cmd = ctl->cmds; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL) {
		control_unknown(c, argv[0]);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		log_warnx("control: %s: out of memory", argv[0]);
		control_client_free(c);
		return;
	}
	rv = cmd->fn(ctl->arg, argc, argv, body);
	control_reply(c, rv == 0, body);
	evbuffer_free(body);
}

/*
 * Input arrived.  The read high-water mark keeps at most CONTROL_LINE_MAX
 * bytes in the buffer, so a line that has no newline by then is too long.
 */
static void
control_read(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	char			 line[CONTROL_LINE_MAX];
	size_t			 n;

	if (c->answered) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos == -1 || (size_t)eol.pos >= CONTROL_LINE_MAX) {
		if (evbuffer_get_length(in) >= CONTROL_LINE_MAX)
			control_error(c, "request line too long (at most %d "
			    "bytes with the newline)", CONTROL_LINE_MAX);
		return;
	}
	n = (size_t)eol.pos;
	if (evbuffer_remove(in, line, n + 1) != (int)(n + 1)) {
		control_client_free(c);
		return;
	}
	line[n] = '\0';		/* was the newline */
	control_request(c, line, n);
}

/* The reply has gone out (the write low-water mark is 0): done. */
static void
control_written(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;

	if (c->answered && evbuffer_get_length(bufferevent_get_output(bev))
	    == 0)
		control_client_free(c);
}

static void
control_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_client	*c = arg;

	if (!c->answered && (what & BEV_EVENT_READING)) {
		if (what & BEV_EVENT_TIMEOUT) {
			control_error(c, "no request line within %d s",
			    CONTROL_READ_TIMEOUT_S);
			return;
		}
		/* Shut down its side mid-line: it may still read. */
		if ((what & BEV_EVENT_EOF) &&
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
			control_error(c, "request line not terminated by a "
			    "newline");
			return;
		}
	}
	/* Gone, an error, or a reply nobody reads. */
	control_client_free(c);
}

/* ---- connections -------------------------------------------------- */

static void
control_client_free(struct control_client *c)
{
	LIST_REMOVE(c, entry);
	c->ctl->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

/* Best effort: one non-blocking write, then close. */
static void
control_refuse(evutil_socket_t fd)
{
	static const char	 msg[] = "error\ntoo many control connections "
	    "at once; try again\n";

	/* If it fails, the client sees the connection closed. */
	(void)send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
control_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_client	*c;
	struct timeval		 tv = { CONTROL_READ_TIMEOUT_S, 0 };

	if (ctl->nclients >= CONTROL_MAX_CLIENTS) {
		log_warnx("control: more than %d clients at once, one refused",
		    CONTROL_MAX_CLIENTS);
		control_refuse(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: out of memory");
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	LIST_INSERT_HEAD(&ctl->clients, c, entry);
	ctl->nclients++;
	bufferevent_setcb(c->bev, control_read, control_written,
	    control_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_LINE_MAX);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

static void
control_accept_error(struct evconnlistener *l, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { CONTROL_ACCEPT_PAUSE_S, 0 };

	log_warn("control: accept");
	evconnlistener_disable(l);
	evtimer_add(ctl->ev_resume, &tv);
}

static void
control_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control	*ctl = arg;

	evconnlistener_enable(ctl->listener);
}

/* ---- the socket file ---------------------------------------------- */

/*
 * Does a process accept connections on sun?  1 yes (a full backlog
 * counts), 0 no (a stale file), -1 cannot tell (errno says why).
 */
static int
control_probe(const struct sockaddr_un *sun)
{
	int	 fd, rv, saved;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS)
		rv = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rv = 0;
	else
		rv = -1;
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

/*
 * The parent of path is missing: create it (only the last component),
 * mode 0755 whatever the umask, owned like the socket.
 */
static int
control_mkparent(const char *path, uid_t uid, gid_t gid, char *err,
    size_t errsz)
{
	struct stat	 st;
	char		*dir, *slash;
	int		 rv = -1;

	if ((dir = strdup(path)) == NULL) {
		snprintf(err, errsz, "control.socket %s: out of memory", path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		rv = 0;		/* in the cwd or in /: bind says the rest */
		goto done;
	}
	*slash = '\0';
	if (stat(dir, &st) == 0 || errno != ENOENT) {
		rv = 0;
		goto done;
	}
	if (mkdir(dir, 0755) == -1) {
		if (errno == EEXIST)
			rv = 0;
		else
			snprintf(err, errsz, "control.socket %s: cannot create "
			    "%s: %s", path, dir, strerror(errno));
		goto done;
	}
	if (chmod(dir, 0755) == -1 || ((uid != (uid_t)-1 ||
	    gid != (gid_t)-1) && chown(dir, uid, gid) == -1)) {
		snprintf(err, errsz, "control.socket %s: %s: %s", path, dir,
		    strerror(errno));
		goto done;
	}
	rv = 0;
done:
	free(dir);
	return rv;
}

/*
 * Make room for the socket: replace a stale socket file, refuse a live
 * one and anything that is not a socket; create a missing parent.
 */
static int
control_clear(const struct sockaddr_un *sun, uid_t uid, gid_t gid,
    char *err, size_t errsz)
{
	const char	*path = sun->sun_path;
	struct stat	 st;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errsz, "control.socket %s: %s", path,
			    strerror(errno));
			return -1;
		}
		return control_mkparent(path, uid, gid, err, errsz);
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errsz, "control.socket %s: exists and is not a "
		    "socket; not touching it", path);
		return -1;
	}
	switch (control_probe(sun)) {
	case 1:
		snprintf(err, errsz, "control.socket %s: in use by a running "
		    "dnsward", path);
		return -1;
	case -1:
		snprintf(err, errsz, "control.socket %s: cannot tell whether "
		    "it is in use: %s", path, strerror(errno));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errsz, "control.socket %s: cannot remove the "
		    "stale socket: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Bind and listen.  The file is created with at most mode & 0600 (the
 * umask sees to it): the group gets its access after the chown, never
 * before, and nobody gets more than mode.
 */
static int
control_bind(struct control *ctl, const struct sockaddr_un *sun,
    mode_t mode, uid_t uid, gid_t gid, char *err, size_t errsz)
{
	struct stat	 st;
	mode_t		 old;
	int		 fd, rv;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errsz, "control.socket %s: socket: %s",
		    ctl->path, strerror(errno));
		return -1;
	}
	old = umask(0177 | (~mode & 0777));
	rv = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rv == -1) {
		snprintf(err, errsz, "control.socket %s: bind: %s", ctl->path,
		    strerror(errno));
		goto fail;
	}
	if (lstat(ctl->path, &st) == -1) {
		snprintf(err, errsz, "control.socket %s: %s", ctl->path,
		    strerror(errno));
		goto fail;
	}
	ctl->bound = 1;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    lchown(ctl->path, uid, gid) == -1) {
		snprintf(err, errsz, "control.socket %s: chown: %s", ctl->path,
		    strerror(errno));
		goto fail;
	}
	if (chmod(ctl->path, mode & 0777) == -1) {
		snprintf(err, errsz, "control.socket %s: chmod: %s", ctl->path,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, CONTROL_MAX_CLIENTS) == -1) {
		snprintf(err, errsz, "control.socket %s: listen: %s",
		    ctl->path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- the module --------------------------------------------------- */

struct control *
control_new(struct event_base *base, const char *path, mode_t mode,
    uid_t uid, gid_t gid, const struct control_cmd *cmds, void *arg,
    char *err, size_t errsz)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "control.socket %s: the path must be 1 to "
		    "%zu bytes long", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL ||
	    (ctl->path = strdup(path)) == NULL) {
		free(ctl);
		snprintf(err, errsz, "control.socket %s: out of memory", path);
		return NULL;
	}
	ctl->base = base;
	ctl->cmds = cmds;
	ctl->arg = arg;
	LIST_INIT(&ctl->clients);
	if (control_clear(&sun, uid, gid, err, errsz) == -1 ||
	    (fd = control_bind(ctl, &sun, mode, uid, gid, err, errsz)) == -1)
		goto fail;
	ctl->listener = evconnlistener_new(base, control_accept, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (ctl->listener == NULL) {
		close(fd);
		snprintf(err, errsz, "control.socket %s: cannot listen: out "
		    "of memory", path);
		goto fail;
	}
	evconnlistener_set_error_cb(ctl->listener, control_accept_error);
	if ((ctl->ev_resume = evtimer_new(base, control_resume, ctl)) ==
	    NULL) {
		snprintf(err, errsz, "control.socket %s: out of memory", path);
		goto fail;
	}
	return ctl;
fail:
	control_free(ctl);
	return NULL;
}

void
control_free(struct control *ctl)
{
	struct stat	 st;

	if (ctl == NULL)
		return;
	while (!LIST_EMPTY(&ctl->clients))
		control_client_free(LIST_FIRST(&ctl->clients));
	if (ctl->listener != NULL)
		evconnlistener_free(ctl->listener);
	if (ctl->ev_resume != NULL)
		event_free(ctl->ev_resume);
	/* Only our own socket: another daemon may have replaced it since. */
	if (ctl->bound && lstat(ctl->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) == -1)
		log_warn("control.socket %s: unlink", ctl->path);
	free(ctl->path);
	free(ctl);
}
