/*
 * check_control.c -- unit tests for control.c: the socket file (stale,
 * live, not a socket, mode, owner, parent directory, unlink on free) and
 * the protocol (status lines, refusals, limits), with a test command
 * table.
 *
 * No threads: the test's client sockets are non-blocking, and the event
 * loop is turned by hand (EVLOOP_NONBLOCK) while the client waits, a
 * bounded number of times.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "control.h"

/* Turns of the loop (10 ms polls at most) before a test gives up. */
#define SPINS		500
#define ANSWER_MAX	(2u << 20)
#define BIG_BODY	(1u << 20)

static char		 dir[64];
static char		 sock[128];
static struct event_base *base;

/* ---- the test commands -------------------------------------------- */

/* "echo a b" -> "echo|a|b" */
static int
cmd_echo(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	int	 i;

	for (i = 0; i < argc; i++)
		evbuffer_add_printf(out, "%s%s", i ? "|" : "", argv[i]);
	evbuffer_add(out, "\n", 1);
	ck_assert_ptr_null(argv[argc]);
	return 0;
}

static int
cmd_fail(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	evbuffer_add_printf(out, "it failed\n");
	return -1;
}

/* A body without its last newline. */
static int
cmd_nonl(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	evbuffer_add_printf(out, "no newline");
	return 0;
}

static int
cmd_big(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	static char	 line[64];
	size_t		 i;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < BIG_BODY / sizeof(line); i++)
		evbuffer_add(out, line, sizeof(line));
	return 0;
}

/* Counts its calls in *arg. */
static int
cmd_count(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	int	*n = arg;

	(*n)++;
	return 0;
}

static const struct control_cmd cmds[] = {
	{ "echo",	cmd_echo },
	{ "fail",	cmd_fail },
	{ "nonl",	cmd_nonl },
	{ "big",	cmd_big },
	{ "count",	cmd_count },
	{ NULL,		NULL }
};

static int	 ncalls;

/* ---- fixture and helpers ------------------------------------------ */

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* Tests change it, and CK_FORK=no runs them in one process. */
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/check_control.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	ck_assert_ptr_nonnull(base = event_base_new());
	ncalls = 0;
}

static void
teardown(void)
{
	char	 p[256];

	unlink(sock);
	snprintf(p, sizeof(p), "%s/sub/ctl.sock", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
	event_base_free(base);
}

static struct control *
start(mode_t mode)
{
	struct control	*ctl;
	char		 err[256];

	ctl = control_new(base, sock, mode, (uid_t)-1, (gid_t)-1, cmds,
	    &ncalls, err, sizeof(err));
	ck_assert_msg(ctl != NULL, "control_new: %s", err);
	return ctl;
}

/* control_new must fail, with want in its message. */
static void
start_fails(const char *path, const char *want)
{
	char	 err[256] = "";

	ck_assert_ptr_null(control_new(base, path, 0660, (uid_t)-1,
	    (gid_t)-1, cmds, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err,
	    want);
}

static void
spin(int n)
{
	while (n-- > 0)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
sun_of(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path));
}

static int
dial(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	sun_of(path, &sun);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect %s: %s", path, strerror(errno));
	return fd;
}

static void
say(int fd, const char *req, size_t len)
{
	ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Turn the loop until the daemon side closes fd's connection; what it
 * sent, NUL terminated (caller frees).
 */
static char *
collect(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 i;

	ck_assert_ptr_nonnull(buf = malloc(ANSWER_MAX + 1));
	for (i = 0; i < SPINS; i++) {
		spin(1);
		n = recv(fd, buf + len, ANSWER_MAX - len, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			break;
		if (n > 0) {
			len += (size_t)n;
			i = 0;		/* progress */
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		poll(&pfd, 1, 10);
	}
	ck_assert_msg(i < SPINS, "no end of answer");
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Send req (len bytes), return the whole answer. */
static char *
ask(const char *req, size_t len)
{
	int	 fd = dial(sock);

	say(fd, req, len);
	return collect(fd);
}

static void
ask_eq(const char *req, const char *want)
{
	char	*got = ask(req, strlen(req));

	ck_assert_str_eq(got, want);
	free(got);
}

static void
ask_error(const char *req, size_t len, const char *want)
{
	char	*got = ask(req, len);

	ck_assert_msg(strncmp(got, "error\n", 6) == 0, "'%s' is no error",
	    got);
	ck_assert_msg(strstr(got, want) != NULL, "'%s' lacks '%s'", got,
	    want);
	free(got);
}

/* ---- protocol ----------------------------------------------------- */

START_TEST(test_ok_error)
{
	struct control	*ctl = start(0660);

	ask_eq("echo\n", "ok\necho\n");
	ask_eq("echo a b\tc\n", "ok\necho|a|b|c\n");
	ask_eq("  \techo   a  \t b  \n", "ok\necho|a|b\n");
	ask_eq("echo a\r\n", "ok\necho|a\n");
	ask_eq("fail x\n", "error\nit failed\n");
	ask_eq("nonl\n", "ok\nno newline\n");
	/* Bytes after the line are not a second request. */
	ask_eq("echo 1\necho 2\n", "ok\necho|1\n");
	control_free(ctl);
}
END_TEST

START_TEST(test_unknown)
{
	struct control	*ctl = start(0660);

	ask_eq("nope x\n", "error\nunknown command 'nope'; commands: echo, "
	    "fail, nonl, big, count\n");
	ask_eq("ECHO\n", "error\nunknown command 'ECHO'; commands: echo, "
	    "fail, nonl, big, count\n");
	ck_assert_int_eq(ncalls, 0);
	control_free(ctl);
}
END_TEST

START_TEST(test_limits)
{
	struct control	*ctl = start(0660);
	char		 req[4096];
	char		*got;
	size_t		 n;

	/* The longest line: CONTROL_LINE_MAX bytes with the newline. */
	memcpy(req, "echo ", 5);
	memset(req + 5, 'a', CONTROL_LINE_MAX - 6);
	req[CONTROL_LINE_MAX - 1] = '\n';
	got = ask(req, CONTROL_LINE_MAX);
	ck_assert_msg(strncmp(got, "ok\necho|aaa", 11) == 0, "%.20s", got);
	ck_assert_uint_eq(strlen(got), 3 + CONTROL_LINE_MAX);
	free(got);
	/* One more, and much more. */
	memset(req + 5, 'a', CONTROL_LINE_MAX - 5);
	req[CONTROL_LINE_MAX] = '\n';
	ask_error(req, CONTROL_LINE_MAX + 1, "request line too long");
	memset(req + 5, 'a', sizeof(req) - 6);
	req[sizeof(req) - 1] = '\n';
	ask_error(req, sizeof(req), "request line too long");

	/* CONTROL_MAX_ARGS words, then one more. */
	n = 0;
	n += (size_t)snprintf(req, sizeof(req), "echo");
	while (n < 4 + 2 * (CONTROL_MAX_ARGS - 1))
		n += (size_t)snprintf(req + n, sizeof(req) - n, " x");
	req[n++] = '\n';
	req[n] = '\0';
	got = ask(req, n);
	{
		char	 want[4 + 2 * CONTROL_MAX_ARGS + 8];
		size_t	 k = 0;
		int	 i;

		k += (size_t)snprintf(want, sizeof(want), "ok\necho");
		for (i = 1; i < CONTROL_MAX_ARGS; i++)
			k += (size_t)snprintf(want + k, sizeof(want) - k, "|x");
		snprintf(want + k, sizeof(want) - k, "\n");
		ck_assert_str_eq(got, want);
	}
	free(got);
	memcpy(req + n - 1, " x\n", 4);
	ask_error(req, n + 2, "too many words");

	ask_error("\n", 1, "empty request");
	ask_error(" \t \r\n", 5, "empty request");
	ask_error("echo a\001b\n", 9, "non-printable byte 0x01");
	ask_error("echo a\0b\n", 9, "non-printable byte 0x00");
	ask_error("echo \xc3\xa9\n", 8, "non-printable byte 0xc3");
	ask_error("echo a\rb\n", 9, "non-printable byte 0x0d");
	ck_assert_int_eq(ncalls, 0);
	control_free(ctl);
}
END_TEST

/* A big body goes out whole before the close. */
START_TEST(test_big_body)
{
	struct control	*ctl = start(0660);
	char		*got = ask("big\n", 4);

	ck_assert_uint_eq(strlen(got), 3 + BIG_BODY);
	ck_assert_str_eq(got + strlen(got) - 2, "x\n");
	free(got);
	control_free(ctl);
}
END_TEST

/* Clients that leave midway, or shut down their side mid-line. */
START_TEST(test_disconnect)
{
	struct control	*ctl = start(0660);
	char		*got;
	int		 fd;

	fd = dial(sock);
	spin(3);
	say(fd, "ech", 3);
	spin(3);
	close(fd);
	spin(3);

	fd = dial(sock);
	close(fd);
	spin(3);

	/* It asks and leaves without reading. */
	fd = dial(sock);
	say(fd, "big\n", 4);
	spin(3);
	close(fd);
	spin(10);

	fd = dial(sock);
	say(fd, "echo", 4);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	got = collect(fd);
	ck_assert_str_eq(got, "error\nrequest line not terminated by a "
	    "newline\n");
	free(got);

	/* Still serving; control_free with clients half-way. */
	ask_eq("count\n", "ok\n");
	ck_assert_int_eq(ncalls, 1);
	fd = dial(sock);
	say(fd, "ec", 2);
	spin(3);
	control_free(ctl);
	got = collect(fd);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

/* CONTROL_MAX_CLIENTS at once; one more is refused; then room again. */
START_TEST(test_max_clients)
{
	struct control	*ctl = start(0660);
	int		 fds[CONTROL_MAX_CLIENTS], fd, i;
	char		*got;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fds[i] = dial(sock);
		spin(2);
	}
	fd = dial(sock);
	got = collect(fd);
	ck_assert_str_eq(got, "error\ntoo many control connections at once; "
	    "try again\n");
	free(got);

	say(fds[0], "echo first\n", 11);
	got = collect(fds[0]);
	ck_assert_str_eq(got, "ok\necho|first\n");
	free(got);
	/* Its place is free. */
	ask_eq("echo again\n", "ok\necho|again\n");
	for (i = 1; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	spin(5);
	for (i = 0; i < CONTROL_MAX_CLIENTS + 2; i++)
		ask_eq("count\n", "ok\n");
	control_free(ctl);
}
END_TEST

/* ---- the socket file ---------------------------------------------- */

START_TEST(test_mode_unlink)
{
	struct control	*ctl;
	struct stat	 st;

	ctl = start(0660);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	control_free(ctl);
	ck_assert_int_eq(lstat(sock, &st), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Whatever the umask. */
	umask(0);
	ctl = start(0600);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(umask(022), 0);	/* put back */
	control_free(ctl);
	umask(077);
	ctl = start(0666);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0666);
	control_free(ctl);

	control_free(NULL);
}
END_TEST

START_TEST(test_owner)
{
	struct control	*ctl;
	struct stat	 st;
	char		 err[256];
	gid_t		 gid = geteuid() == 0 ? 1 : getegid();

	ctl = control_new(base, sock, 0660, (uid_t)-1, gid, cmds, NULL, err,
	    sizeof(err));
	ck_assert_msg(ctl != NULL, "%s", err);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert_uint_eq(st.st_gid, gid);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	control_free(ctl);
}
END_TEST

/* A socket file nobody listens on is replaced. */
START_TEST(test_stale)
{
	struct sockaddr_un	 sun;
	struct control		*ctl;
	int			 fd;

	sun_of(sock, &sun);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ctl = start(0660);
	ask_eq("echo stale\n", "ok\necho|stale\n");
	control_free(ctl);
}
END_TEST

/* A live socket is left alone, be it ours or anyone's. */
START_TEST(test_in_use)
{
	struct sockaddr_un	 sun;
	struct control		*ctl;
	struct stat		 st;
	int			 fd;

	ctl = start(0660);
	start_fails(sock, "in use by a running dnsward");
	ask_eq("echo still\n", "ok\necho|still\n");
	control_free(ctl);

	sun_of(sock, &sun);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	start_fails(sock, "in use by a running dnsward");
	ck_assert_int_eq(lstat(sock, &st), 0);
	close(fd);
}
END_TEST

/* Never remove what is not a socket. */
START_TEST(test_not_socket)
{
	struct stat	 st;
	int		 fd;

	fd = open(sock, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	start_fails(sock, "exists and is not a socket");
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	unlink(sock);

	ck_assert_int_eq(symlink("/nonexistent", sock), 0);
	start_fails(sock, "exists and is not a socket");
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	unlink(sock);

	ck_assert_int_eq(mkdir(sock, 0755), 0);
	start_fails(sock, "exists and is not a socket");
	rmdir(sock);
}
END_TEST

/* Our socket replaced by something else: control_free leaves it. */
START_TEST(test_free_replaced)
{
	struct control	*ctl = start(0660);
	struct stat	 st;
	int		 fd;

	ck_assert_int_eq(unlink(sock), 0);
	fd = open(sock, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	control_free(ctl);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(test_paths)
{
	struct control	*ctl;
	struct stat	 st;
	char		 path[256], err[256];

	/* The last directory is made, mode 0755 whatever the umask. */
	umask(077);
	snprintf(path, sizeof(path), "%s/sub/ctl.sock", dir);
	ctl = control_new(base, path, 0660, (uid_t)-1, (gid_t)-1, cmds, NULL,
	    err, sizeof(err));
	ck_assert_msg(ctl != NULL, "%s", err);
	snprintf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	control_free(ctl);
	umask(022);

	/* Only the last one. */
	snprintf(path, sizeof(path), "%s/a/b/ctl.sock", dir);
	start_fails(path, "cannot create");

	/* Longer than sun_path. */
	memset(path, 'a', 150);
	path[0] = '/';
	path[150] = '\0';
	start_fails(path, "the path must be 1 to 107 bytes long");
	start_fails("", "the path must be");
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s = suite_create("control");
	TCase	*tc;

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_ok_error);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_big_body);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_max_clients);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mode_unlink);
	tcase_add_test(tc, test_owner);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_in_use);
	tcase_add_test(tc, test_not_socket);
	tcase_add_test(tc, test_free_replaced);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(control_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
