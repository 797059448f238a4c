/*
 * log.h -- the daemon's own messages (not the decision log): start-up,
 * errors, signals.  They go to stderr, which systemd sends to the journal.
 * log_warn() appends strerror(errno); log_warnx() does not.  fatal() and
 * fatalx() log and exit(1).
 */
#ifndef DNSWARD_LOG_H
#define DNSWARD_LOG_H

#include <stdarg.h>

void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* DNSWARD_LOG_H */
