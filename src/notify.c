/*
 * notify.c -- the sd_notify datagram protocol, written from the protocol
 * description in sd_notify(3) rather than from libsystemd: one datagram of
 * newline-separated "KEY=value" assignments to the AF_UNIX SOCK_DGRAM
 * socket named by $NOTIFY_SOCKET.  The manager learns who sent it from the
 * kernel (SO_PASSCRED on its side), so no credentials are attached here.
 *
 * Thread-safety: notify_init() runs once at start-up, before any thread
 * is created; notify() may be called from the main thread only (the state
 * below is not locked, and the manager wants the events in order anyway).
 * notify_monotonic_usec() may be called from anywhere.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

/*
 * Longest message sent.  systemd accepts far more; what dnsward sends is a
 * few short assignments and one STATUS= line.
 */
#define NOTIFY_MSG_MAX	2048

/* Where to send: notify_fd == -1 means off. */
static int			 notify_fd = -1;
static struct sockaddr_un	 notify_sun;
static socklen_t		 notify_sunlen;

/*
 * Fill notify_sun from $NOTIFY_SOCKET's value: an absolute path, or "@name"
 * for an abstract address (a leading NUL and the name, no trailing NUL:
 * the length given to sendto() delimits it).  Returns -1 when the value is
 * not an address we can use (empty, another scheme, too long).
 */
static int
notify_addr(const char *s)
{
	size_t	 len = strlen(s);

	memset(&notify_sun, 0, sizeof(notify_sun));
	notify_sun.sun_family = AF_UNIX;
	if (s[0] == '/') {
		/* Room for the trailing NUL too. */
		if (len >= sizeof(notify_sun.sun_path))
			return -1;
		memcpy(notify_sun.sun_path, s, len + 1);
		notify_sunlen = offsetof(struct sockaddr_un, sun_path) +
		    len + 1;
		return 0;
	}
	if (s[0] == '@' && len > 1) {
		/* '@' becomes the leading NUL: same length. */
		if (len > sizeof(notify_sun.sun_path))
			return -1;
		memcpy(notify_sun.sun_path + 1, s + 1, len - 1);
		notify_sunlen = offsetof(struct sockaddr_un, sun_path) + len;
		return 0;
	}
	return -1;
}

void
notify_init(void)
{
	const char	*s;

	/* Called again (tests): start from "off". */
	if (notify_fd != -1) {
		close(notify_fd);
		notify_fd = -1;
	}
	if ((s = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	if (notify_addr(s) == 0)
		notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Nothing we start may talk to the manager in our name. */
	unsetenv("NOTIFY_SOCKET");
}

void
notify(const char *fmt, ...)
{
	char	 msg[NOTIFY_MSG_MAX];
	char	*nl;
	va_list	 ap;
	int	 n;
	size_t	 len;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n;
	if (len >= sizeof(msg)) {
		/*
		 * Truncated: send only the whole assignments that fit, never
		 * half a value (a cut MONOTONIC_USEC= would be a wrong one).
		 */
		if ((nl = memrchr(msg, '\n', sizeof(msg) - 1)) == NULL)
			return;
		len = nl - msg;
	}
	if (len == 0)
		return;
	/* Failures are ignored: the manager may be gone or busy. */
	while (sendto(notify_fd, msg, len, MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_sun, notify_sunlen) == -1 &&
	    errno == EINTR)
		;
}

unsigned long long
notify_monotonic_usec(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000;
}
