/*
 * log.c -- the daemon's own messages on stderr.  See log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void
vlog(const char *fmt, va_list ap, int err)
{
	char	 msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One write per line so threads do not interleave within a line. */
	if (err)
		fprintf(stderr, "dnsward: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "dnsward: %s\n", msg);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
	exit(1);
}
