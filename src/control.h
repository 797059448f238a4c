/*
 * control.h -- the control socket: a unix stream socket on which
 * dnsward-ctl asks the running daemon to reload, report, flush, explain.
 *
 * Protocol (documented for operators in dnsward-ctl(8)):
 *   The client connects and sends one request line, at most
 *   CONTROL_LINE_MAX bytes including the newline: a command and its
 *   arguments separated by spaces or tabs ("explain example.com AAAA
 *   --client 10.0.0.1\n").  Printable ASCII only; a CR before the newline
 *   is ignored.  The daemon answers with a status line, "ok" or "error",
 *   then the reply body (text lines, or one JSON object for stats; always
 *   ending in a newline when not empty), and closes the connection.  One
 *   request per connection; bytes after the first newline are ignored.
 *   Requests the module itself refuses (too long, empty, too many words,
 *   a non-printable byte, an unknown command, no newline before the
 *   client shut down its side or within CONTROL_READ_TIMEOUT_S) get
 *   "error" and one line saying why.
 *
 * The socket is created at start-up (before privileges are dropped) with
 * the given mode (0660 by default) and owner; a stale socket file left by
 * a dead daemon is replaced, a live one (it accepts a connection) is an
 * error, and anything else at the path (a file, a symlink) is never
 * removed.  Handlers run on the main thread's event loop, one at a time;
 * a handler may take long (reload) and the client waits for its answer.
 */
#ifndef DNSWARD_CONTROL_H
#define DNSWARD_CONTROL_H

#include <sys/types.h>

struct event_base;
struct evbuffer;
struct control;

/* Where dnsward-ctl looks without -s or -c (config: control.socket). */
#define CONTROL_DEFAULT_SOCKET	"/run/dnsward/control.sock"

#define CONTROL_LINE_MAX	1024
/* explain NAME TYPE --client IP, and 16 times --answer IP */
#define CONTROL_MAX_ARGS	40
/*
 * Clients served at once; one more is answered "error" (too many
 * connections) and closed at once, so that a stuck client cannot make
 * dnsward-ctl hang.
 */
#define CONTROL_MAX_CLIENTS	16
/*
 * A client that sends no complete line in this time gets an error and is
 * dropped; so is one that does not read its answer in this time.
 */
#define CONTROL_READ_TIMEOUT_S	10

/*
 * A command: argv[0] is the command's name, argc <= CONTROL_MAX_ARGS,
 * argv[argc] is NULL; the words are printable ASCII, never empty.
 * Writes its reply body to out; returns 0 (status line "ok") or -1
 * ("error"; the body says why).  A handler must not call control_free().
 */
typedef int (*control_fn)(void *arg, int argc, char *argv[],
    struct evbuffer *out);

struct control_cmd {
	const char	*name;
	control_fn	 fn;
};

/*
 * Listen on path.  cmds ends with a { NULL, NULL } entry; an unknown
 * command gets "error\nunknown command 'x'; commands: reload, ...\n".
 * uid/gid (uid_t)-1 / (gid_t)-1: leave the owner alone.  A missing parent
 * directory (only the last one: /run/dnsward) is created, mode 0755, with
 * the same owner.  The umask is changed around bind(2), so call this
 * before starting threads that create files.  Returns NULL with
 * "control.socket PATH: why" in err.
 */
struct control	*control_new(struct event_base *, const char *path,
		    mode_t mode, uid_t uid, gid_t gid,
		    const struct control_cmd *cmds, void *arg, char *err,
		    size_t errsz);

/*
 * Close every connection and the socket, and unlink it if the file at the
 * path is still the one we bound; accepts NULL.
 */
void		 control_free(struct control *);

#endif /* DNSWARD_CONTROL_H */
