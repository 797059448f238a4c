/*
 * dnsward-ctl.c -- talk to a running dnsward over its control socket.
 *
 * Sends one request line (the command words joined by single spaces),
 * reads the status line ("ok" or "error") and the body until the daemon
 * closes, and prints the body: to stdout after "ok", to stderr after
 * "error".  Exit 0 (ok), 1 (error), 2 (usage, or no answer from the
 * daemon).  See control.h for the protocol and dnsward-ctl(8).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"0.1.0"
#endif

#define EXIT_OK		0
#define EXIT_ERROR	1	/* the daemon said "error" */
#define EXIT_TROUBLE	2	/* usage, or cannot talk to the daemon */

/* A reload of large feeds takes seconds. */
#define DEFAULT_TIMEOUT_S	60
#define MAX_TIMEOUT_S		86400
/* Longer than "error\n" with room to spare: anything else is garbage. */
#define STATUS_MAX		16

/* What the client knows of each command, for usage errors up front. */
struct ctl_cmd {
	const char	*name;
	int		 min, max;	/* arguments after the name */
	const char	*args;		/* for the usage text */
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "reload",	0, 1,	"[--force]" },
	{ "status",	0, 0,	"" },
	{ "stats",	0, 0,	"" },
	{ "flush",	0, 1,	"[name]" },
	{ "explain",	1, CONTROL_MAX_ARGS - 1,
	    "name [type] [--client ip] [--answer ip ...]" },
	{ NULL,		0, 0,	NULL }
};

static void
usage(FILE *f)
{
	const struct ctl_cmd	*c;

	fprintf(f, "usage: dnsward-ctl [-hV] [-s socket] [-c config] "
	    "[-t seconds] command [args...]\n"
	    "  -s socket   control socket (default " CONTROL_DEFAULT_SOCKET
	    ")\n"
	    "  -c config   read control.socket from this configuration\n"
	    "  -t seconds  give up after this long (default %d; 0: never)\n"
	    "  -V          print the version\n"
	    "  -h          this help\n"
	    "commands:\n", DEFAULT_TIMEOUT_S);
	for (c = ctl_cmds; c->name != NULL; c++)
		fprintf(f, "  %s%s%s\n", c->name, c->args[0] ? " " : "",
		    c->args);
}

static void
report(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

/* The socket named by file's control.socket; exits on failure. */
static char *
socket_from_config(const char *file)
{
	struct config	 cfg;
	char		*path;

	memset(&cfg, 0, sizeof(cfg));
	/*
	 * A daemon runs with the socket of the configuration it started
	 * with: when the file is broken now (the reload about to fail will
	 * say why) or names no socket, the default one is tried.
	 */
	if (config_load(&cfg, file, NULL, report, NULL) != 0) {
		fprintf(stderr, "dnsward-ctl: %s: invalid configuration; "
		    "trying the default control socket %s\n", file,
		    CONTROL_DEFAULT_SOCKET);
		return NULL;
	}
	if (cfg.control_socket == NULL) {
		fprintf(stderr, "dnsward-ctl: %s: control.socket is off; "
		    "trying the default control socket %s\n", file,
		    CONTROL_DEFAULT_SOCKET);
		config_release(&cfg);
		return NULL;
	}
	if ((path = strdup(cfg.control_socket)) == NULL) {
		fprintf(stderr, "dnsward-ctl: out of memory\n");
		exit(EXIT_TROUBLE);
	}
	config_release(&cfg);
	return path;
}

/*
 * Check the command and its words, and join them into "w1 w2 ...\n" in
 * req (CONTROL_LINE_MAX bytes).  Returns the length, or -1 after a
 * message on stderr.
 */
static int
build_request(int argc, char *argv[], char *req)
{
	const struct ctl_cmd	*c;
	size_t			 len = 0, n;
	int			 i;
	const unsigned char	*p;

	for (c = ctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (c->name == NULL) {
		fprintf(stderr, "dnsward-ctl: unknown command '%s'\n",
		    argv[0]);
		usage(stderr);
		return -1;
	}
	if (argc - 1 < c->min || argc - 1 > c->max) {
		fprintf(stderr, "usage: dnsward-ctl %s%s%s\n", c->name,
		    c->args[0] ? " " : "", c->args);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '\0') {
			fprintf(stderr, "dnsward-ctl: argument %d is empty\n",
			    i);
			return -1;
		}
		for (p = (const unsigned char *)argv[i]; *p != '\0'; p++)
			if (*p <= 0x20 || *p >= 0x7f) {
				fprintf(stderr, "dnsward-ctl: argument %d "
				    "holds a space, a control character or a "
				    "non-ASCII byte\n", i);
				return -1;
			}
		n = strlen(argv[i]);
		/* The word, a space or the newline, and room for the NUL. */
		if (len + n + 1 >= CONTROL_LINE_MAX) {
			fprintf(stderr, "dnsward-ctl: request too long (at "
			    "most %d bytes)\n", CONTROL_LINE_MAX - 1);
			return -1;
		}
		memcpy(req + len, argv[i], n);
		len += n;
		req[len++] = i == argc - 1 ? '\n' : ' ';
	}
	return (int)len;
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds left before deadline, for poll(); -1 when there is none. */
static int
left_ms(double deadline)
{
	double	 left;

	if (deadline == 0)
		return -1;
	left = (deadline - now()) * 1000;
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left + 1;
}

/* Explain a failed connect on stderr. */
static void
connect_error(const char *path, int err, int timeout)
{
	struct stat	 st;
	struct group	*gr;

	fprintf(stderr, "dnsward-ctl: cannot connect to %s: ", path);
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		fprintf(stderr, "%s (is dnsward running? is control.socket "
		    "set?)\n", strerror(err));
		break;
	case EACCES:
	case EPERM:
		if (stat(path, &st) == 0 &&
		    (gr = getgrgid(st.st_gid)) != NULL)
			fprintf(stderr, "%s (the socket is mode %04o, group "
			    "%s: run as root or as a member of %s)\n",
			    strerror(err), (unsigned)(st.st_mode & 07777),
			    gr->gr_name, gr->gr_name);
		else
			fprintf(stderr, "%s (the socket is mode 0660: run as "
			    "root or as a member of its group)\n",
			    strerror(err));
		break;
	case EAGAIN:
		fprintf(stderr, "no room after %d s (dnsward is busy)\n",
		    timeout);
		break;
	default:
		fprintf(stderr, "%s\n", strerror(err));
		break;
	}
}

/*
 * Connect to path; the descriptor is non-blocking once connected.  A
 * unix socket's connect(2) waits for room in the listen backlog, bounded
 * by SO_SNDTIMEO.  Exits on failure.
 */
static int
ctl_connect(const char *path, int timeout, const char *fallback)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { timeout, 0 };
	int			 fd, flags;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dnsward-ctl: %s: path longer than %zu bytes\n",
		    path, sizeof(sun.sun_path) - 1);
		exit(EXIT_TROUBLE);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "dnsward-ctl: socket: %s\n", strerror(errno));
		exit(EXIT_TROUBLE);
	}
	if (timeout > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		fprintf(stderr, "dnsward-ctl: setsockopt: %s\n",
		    strerror(errno));
		exit(EXIT_TROUBLE);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/*
		 * control.socket is restart-only: the file may name a new
		 * socket the running daemon does not listen on yet.
		 */
		if ((errno == ENOENT || errno == ECONNREFUSED) &&
		    fallback != NULL && strcmp(fallback, path) != 0) {
			fprintf(stderr, "dnsward-ctl: nothing listens on %s; "
			    "trying %s\n", path, fallback);
			close(fd);
			return ctl_connect(fallback, timeout, NULL);
		}
		connect_error(path, errno, timeout);
		exit(EXIT_TROUBLE);
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		fprintf(stderr, "dnsward-ctl: fcntl: %s\n", strerror(errno));
		exit(EXIT_TROUBLE);
	}
	return fd;
}

/*
 * Wait until fd is ready for events; 1 ready, 0 out of time.  Exits on
 * a poll error.
 */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		n = poll(&pfd, 1, left_ms(deadline));
		if (n > 0)
			return 1;
		if (n == 0) {
			if (left_ms(deadline) == 0)
				return 0;
			continue;
		}
		if (errno != EINTR) {
			fprintf(stderr, "dnsward-ctl: poll: %s\n",
			    strerror(errno));
			exit(EXIT_TROUBLE);
		}
	}
}

static void
timed_out(int timeout)
{
	fprintf(stderr, "dnsward-ctl: no answer from the daemon within %d s "
	    "(-t to wait longer)\n", timeout);
	exit(EXIT_TROUBLE);
}

/*
 * Send the request.  A daemon that refuses us may close before we are
 * done; what it said first is still there to read, so a broken pipe is
 * not an error here.
 */
static void
send_request(int fd, const char *req, size_t len, double deadline,
    int timeout)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!wait_fd(fd, POLLOUT, deadline))
				timed_out(timeout);
			continue;
		}
		fprintf(stderr, "dnsward-ctl: send: %s\n", strerror(errno));
		exit(EXIT_TROUBLE);
	}
}

/*
 * Read one chunk into buf: its length, 0 at the end (EOF, or a reset
 * after the daemon closed with our bytes unread).  Exits on a timeout or
 * an error.
 */
static size_t
read_some(int fd, char *buf, size_t bufsz, double deadline, int timeout)
{
	ssize_t	 n;

	for (;;) {
		n = recv(fd, buf, bufsz, 0);
		if (n >= 0)
			return (size_t)n;
		if (errno == ECONNRESET)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			fprintf(stderr, "dnsward-ctl: recv: %s\n",
			    strerror(errno));
			exit(EXIT_TROUBLE);
		}
		if (!wait_fd(fd, POLLIN, deadline))
			timed_out(timeout);
	}
}

static void
put(FILE *f, const char *buf, size_t len)
{
	if (len > 0 && fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "dnsward-ctl: write: %s\n", strerror(errno));
		exit(EXIT_TROUBLE);
	}
}

/* Read the status line, then copy the body out; the exit status. */
static int
read_answer(int fd, double deadline, int timeout)
{
	char	 buf[8192];
	char	*nl;
	size_t	 len = 0, n, skip;
	FILE	*out;
	int	 rv;

	/* Up to the first newline; anything long without one is garbage. */
	for (;;) {
		n = read_some(fd, buf + len, sizeof(buf) - len, deadline,
		    timeout);
		if (n == 0) {
			fprintf(stderr, "dnsward-ctl: the daemon closed the "
			    "connection without an answer\n");
			return EXIT_TROUBLE;
		}
		len += n;
		if ((nl = memchr(buf, '\n', len)) != NULL)
			break;
		if (len >= STATUS_MAX)
			goto garbage;
	}
	*nl = '\0';
	if (strcmp(buf, "ok") == 0) {
		out = stdout;
		rv = EXIT_OK;
	} else if (strcmp(buf, "error") == 0) {
		out = stderr;
		rv = EXIT_ERROR;
	} else
		goto garbage;
	skip = (size_t)(nl - buf) + 1;
	put(out, buf + skip, len - skip);
	while ((n = read_some(fd, buf, sizeof(buf), deadline, timeout)) > 0)
		put(out, buf, n);
	if (fflush(out) == EOF) {
		fprintf(stderr, "dnsward-ctl: write: %s\n", strerror(errno));
		return EXIT_TROUBLE;
	}
	return rv;
garbage:
	fprintf(stderr, "dnsward-ctl: unexpected answer (not \"ok\" or "
	    "\"error\"): is this dnsward's control socket?\n");
	return EXIT_TROUBLE;
}

int
main(int argc, char *argv[])
{
	const char	*path = NULL, *config = NULL;
	char		*cpath = NULL;
	char		 req[CONTROL_LINE_MAX];
	double		 deadline = 0;
	long		 t = DEFAULT_TIMEOUT_S;
	char		*end;
	int		 ch, fd, len, rv;

	/* "+": stop at the command, whose arguments may start with "--". */
	while ((ch = getopt(argc, argv, "+c:hs:t:V")) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 's':
			path = optarg;
			break;
		case 't':
			errno = 0;
			t = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    t < 0 || t > MAX_TIMEOUT_S) {
				fprintf(stderr, "dnsward-ctl: -t: seconds from "
				    "0 to %d\n", MAX_TIMEOUT_S);
				return EXIT_TROUBLE;
			}
			break;
		case 'V':
			printf("dnsward-ctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_TROUBLE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	if ((len = build_request(argc, argv, req)) == -1)
		return EXIT_TROUBLE;
	if (path == NULL && config != NULL)
		path = cpath = socket_from_config(config);
	if (path == NULL)
		path = CONTROL_DEFAULT_SOCKET;

	if (t > 0)
		deadline = now() + t;
	fd = ctl_connect(path, (int)t, cpath != NULL ? CONTROL_DEFAULT_SOCKET :
	    NULL);
	send_request(fd, req, (size_t)len, deadline, (int)t);
	rv = read_answer(fd, deadline, (int)t);
	close(fd);
	free(cpath);
	return rv;
}
