/*
 * notify.h -- service manager notification (sd_notify protocol) without
 * libsystemd: datagrams to the unix socket named by $NOTIFY_SOCKET
 * (a path, or an abstract address when it starts with '@').
 *
 *   READY=1                          start-up done, serving
 *   RELOADING=1 + MONOTONIC_USEC=N   a reload begins (systemd >= 253 reads
 *                                    it; older ones ignore it)
 *   READY=1                          the reload is over (either outcome)
 *   STOPPING=1                       draining, about to exit
 *   STATUS=text                      one line for `systemctl status`
 *
 * Without $NOTIFY_SOCKET (not started by systemd with Type=notify) every
 * call does nothing.  Failures are ignored: the manager may be gone.
 */
#ifndef DNSWARD_NOTIFY_H
#define DNSWARD_NOTIFY_H

/*
 * Read $NOTIFY_SOCKET once (call before dropping privileges and before
 * threads start) and unset it so children do not inherit it.
 */
void	notify_init(void);

/* Send printf-formatted "KEY=value\n..." text; does nothing when off. */
void	notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in microseconds, for MONOTONIC_USEC=. */
unsigned long long notify_monotonic_usec(void);

#endif /* DNSWARD_NOTIFY_H */
