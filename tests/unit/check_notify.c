/*
 * check_notify.c -- unit tests for notify.c (the sd_notify protocol): a
 * unix datagram socket bound in a mkdtemp directory, or at an abstract
 * address, plays the service manager; $NOTIFY_SOCKET names it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

/* The fake manager: its socket, and the directory of a path socket. */
struct manager {
	int	 fd;
	char	 dir[64];
	char	 env[256];	/* what $NOTIFY_SOCKET says */
};

/* Bind a path socket in a fresh directory. */
static void
manager_path(struct manager *m)
{
	struct sockaddr_un	 sun;

	snprintf(m->dir, sizeof(m->dir), "%s", "/tmp/dnsward-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(m->dir));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", m->dir);
	snprintf(m->env, sizeof(m->env), "%s", sun.sun_path);
	ck_assert_int_ne(m->fd = socket(AF_UNIX, SOCK_DGRAM, 0), -1);
	ck_assert_msg(bind(m->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "bind %s: %s", sun.sun_path, strerror(errno));
}

/*
 * Bind an abstract socket named by the len bytes of name (no NUL in the
 * address, as systemd binds its own).
 */
static void
manager_abstract(struct manager *m, const char *name, size_t len)
{
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;

	m->dir[0] = '\0';
	ck_assert_uint_le(len + 1, sizeof(sun.sun_path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, len);
	sunlen = offsetof(struct sockaddr_un, sun_path) + 1 + len;
	snprintf(m->env, sizeof(m->env), "@%.*s", (int)len, name);
	ck_assert_int_ne(m->fd = socket(AF_UNIX, SOCK_DGRAM, 0), -1);
	ck_assert_msg(bind(m->fd, (struct sockaddr *)&sun, sunlen) == 0,
	    "bind @%.*s: %s", (int)len, name, strerror(errno));
}

static void
manager_free(struct manager *m)
{
	char	 path[128];

	close(m->fd);
	if (m->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/notify", m->dir);
		unlink(path);
		rmdir(m->dir);
	}
}

/*
 * The next datagram, waiting up to 2 s; its length, or -1 when none came
 * (wait_ms 0: only what is already there).
 */
static ssize_t
manager_recv(struct manager *m, char *buf, size_t bufsz, int wait_ms)
{
	struct pollfd	 pfd = { .fd = m->fd, .events = POLLIN };

	if (poll(&pfd, 1, wait_ms) != 1)
		return -1;
	return recv(m->fd, buf, bufsz, MSG_DONTWAIT);
}

/* An abstract name unique to this process. */
static size_t
unique_name(char *buf, size_t bufsz)
{
	return (size_t)snprintf(buf, bufsz, "dnsward-check-notify-%ld",
	    (long)getpid());
}

START_TEST(test_path)
{
	struct manager	 m;
	char		 buf[256];
	ssize_t		 n;
	const char	*want = "READY=1\nSTATUS=x 5";

	manager_path(&m);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.env, 1), 0);
	notify_init();
	ck_assert_msg(getenv("NOTIFY_SOCKET") == NULL,
	    "NOTIFY_SOCKET still set after notify_init");
	notify("READY=1\nSTATUS=x %d", 5);
	n = manager_recv(&m, buf, sizeof(buf), 2000);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_mem_eq(buf, want, (size_t)n);

	/* Later messages go to the same place. */
	notify("STOPPING=1");
	n = manager_recv(&m, buf, sizeof(buf), 2000);
	ck_assert_int_eq(n, 10);
	ck_assert_mem_eq(buf, "STOPPING=1", 10);
	manager_free(&m);
}
END_TEST

START_TEST(test_abstract)
{
	struct manager	 m;
	char		 name[64], buf[256];
	size_t		 len;
	ssize_t		 n;
	const char	*want = "READY=1\nSTATUS=x 5";

	len = unique_name(name, sizeof(name));
	manager_abstract(&m, name, len);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.env, 1), 0);
	notify_init();
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	notify("READY=1\nSTATUS=x %d", 5);
	/* Sent to a longer (NUL-terminated) address, it would not arrive. */
	n = manager_recv(&m, buf, sizeof(buf), 2000);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_mem_eq(buf, want, (size_t)n);
	manager_free(&m);
}
END_TEST

/* The longest abstract name that fits: 107 bytes after the leading NUL. */
START_TEST(test_abstract_longest)
{
	struct sockaddr_un	 sun;
	struct manager		 m;
	char			 name[sizeof(sun.sun_path)], buf[64];
	size_t			 len = sizeof(sun.sun_path) - 1;
	ssize_t			 n;

	memset(name, 'n', len);
	unique_name(name, len);
	name[strlen(name)] = 'n';	/* overwrite snprintf's NUL */
	manager_abstract(&m, name, len);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.env, 1), 0);
	notify_init();
	notify("READY=1");
	n = manager_recv(&m, buf, sizeof(buf), 2000);
	ck_assert_int_eq(n, 7);
	ck_assert_mem_eq(buf, "READY=1", 7);
	manager_free(&m);
}
END_TEST

/* Without $NOTIFY_SOCKET nothing is sent, and nothing breaks. */
START_TEST(test_unset)
{
	struct manager	 m;
	char		 buf[64];

	manager_path(&m);
	ck_assert_int_eq(unsetenv("NOTIFY_SOCKET"), 0);
	notify_init();
	notify("READY=1\nSTATUS=x %d", 5);
	notify("STOPPING=1");
	ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 200), -1);

	/* An empty value is the same as none. */
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "", 1), 0);
	notify_init();
	notify("READY=1");
	ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 200), -1);
	manager_free(&m);
}
END_TEST

/* A second notify_init() without the variable turns notification off. */
START_TEST(test_reinit_off)
{
	struct manager	 m;
	char		 buf[64];

	manager_path(&m);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.env, 1), 0);
	notify_init();
	notify_init();
	notify("READY=1");
	ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 200), -1);
	manager_free(&m);
}
END_TEST

/* NOTIFY_SOCKET=first + (len - 1) more bytes, then notify_init(). */
static void
init_with(char first, size_t len)
{
	char	 v[512];

	ck_assert_uint_lt(len, sizeof(v));
	memset(v, 'a', len);
	v[0] = first;
	v[len] = '\0';
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", v, 1), 0);
	notify_init();
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
}

/* Addresses that cannot be used are ignored, without a crash. */
START_TEST(test_bad_addresses)
{
	struct sockaddr_un	 sun;
	static const char *const bad[] = {
		"relative/notify.sock", "@", "vsock:2:1234", "x", NULL
	};
	const char *const	*b;

	/* A path as long as sun_path leaves no room for its NUL. */
	init_with('/', sizeof(sun.sun_path));
	notify("READY=1\nSTATUS=x %d", 5);
	/* An abstract name one byte too long. */
	init_with('@', sizeof(sun.sun_path) + 1);
	notify("READY=1");
	/* Far too long, path and abstract. */
	init_with('/', 500);
	notify("READY=1");
	init_with('@', 500);
	notify("READY=1");

	for (b = bad; *b != NULL; b++) {
		ck_assert_int_eq(setenv("NOTIFY_SOCKET", *b, 1), 0);
		notify_init();
		ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
		notify("READY=1");
	}
}
END_TEST

/* A path that names no socket: sendto fails, quietly. */
START_TEST(test_nobody_listening)
{
	ck_assert_int_eq(setenv("NOTIFY_SOCKET",
	    "/nonexistent/dnsward/notify", 1), 0);
	notify_init();
	notify("READY=1");
	notify("STOPPING=1");
}
END_TEST

/* Over-long text: only the whole assignments that fit are sent. */
START_TEST(test_truncated)
{
	struct manager	 m;
	static char	 big[8192], buf[16384];
	ssize_t		 n;

	memset(big, 'z', sizeof(big) - 1);
	manager_path(&m);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.env, 1), 0);
	notify_init();
	notify("READY=1\nSTATUS=%s", big);
	n = manager_recv(&m, buf, sizeof(buf), 2000);
	ck_assert_int_eq(n, 7);
	ck_assert_mem_eq(buf, "READY=1", 7);

	/* One assignment too long: nothing at all. */
	notify("STATUS=%s", big);
	ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 200), -1);

	/* And the next normal message still goes. */
	notify("RELOADING=1\nMONOTONIC_USEC=%llu", notify_monotonic_usec());
	n = manager_recv(&m, buf, sizeof(buf) - 1, 2000);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0 &&
	    strspn(buf + 27, "0123456789") == strlen(buf + 27) &&
	    buf[27] != '\0', "got '%s'", buf);
	manager_free(&m);
}
END_TEST

START_TEST(test_monotonic)
{
	unsigned long long	 a, b;

	a = notify_monotonic_usec();
	usleep(2000);
	b = notify_monotonic_usec();
	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ge(b, a + 2000);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc;

	tc = tcase_create("notify");
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_abstract);
	tcase_add_test(tc, test_abstract_longest);
	tcase_add_test(tc, test_unset);
	tcase_add_test(tc, test_reinit_off);
	tcase_add_test(tc, test_bad_addresses);
	tcase_add_test(tc, test_nobody_listening);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_monotonic);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
