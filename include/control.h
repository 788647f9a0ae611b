/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a unix stream socket on which `dnsrlctl` asks for
 * the counters and the most limited sources, and changes what the daemon
 * does to a source.
 *
 * The protocol is one request line, one reply, then the server closes:
 *
 *	request:  "stats\n" | "top\n" | "top N\n"	(N 1..CONTROL_TOP_MAX)
 *	          | "show ARGS\n" | "allow\n"		(reads)
 *	          | "reload\n" | "release ARGS\n" | "hold ARGS\n"
 *	          | "allow ARGS\n"			(changes)
 *	reply:    "ok LENGTH\n" and LENGTH bytes of text
 *	      or  "error: MESSAGE\n"
 *
 * The length lets a client tell a whole reply from one cut short.  The
 * arguments of show, release, hold and allow are the daemon's to read
 * (steer.h).
 *
 * The server runs on a thread of its own (control_start): however many
 * clients come and however long a `top` over a large table takes, the
 * daemon's main loop (signals, ticks, the watchdog) never waits for it.
 * Each client is served within a deadline, so a slow or silent one holds
 * up only the clients behind it.
 *
 * Who may ask: the socket file is mode 0600, so only root and the
 * socket's owner may connect, and may ask anything.  With a readers'
 * group (control_set_readers) it is mode 0660 and that group's: its
 * members (by their primary or any supplementary group, as the kernel
 * gave them at connect, SO_PEERCRED and SO_PEERGROUPS) may read, and are
 * refused the changes with a message that says so.  The peer's
 * credentials are checked on accept either way.
 */
#ifndef DNSRL_CONTROL_H
#define DNSRL_CONTROL_H

#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>

#define CONTROL_DEFAULT_PATH "/run/dnsrl/control.sock"
#define CONTROL_TOP_DEFAULT 10
#define CONTROL_TOP_MAX 1000
#define CONTROL_REQUEST_MAX 256 /* bytes of a request line, '\n' included */
#define CONTROL_DEADLINE_MS 100 /* a control_handle() call, at most */

/*
 * What the daemon answers with.  Each callback writes its reply text to
 * out (an in-memory stream) and returns 0, or -errno to send an error:
 * the first line of what it wrote to out, or "internal: " and the errno
 * text when it wrote nothing.  With control_start they run on the control
 * thread.
 */
/* Who asked, as the kernel gave it at connect. */
struct control_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct control_ops {
	int (*stats)(void *arg, FILE *out);
	int (*top)(void *arg, size_t n, FILE *out);
	int (*reload)(void *arg, FILE *out); /* answers when it is done */
	/*
	 * show, release, hold, allow: line is the whole request (without
	 * its line end), for a peer the server has let ask it.  NULL: the
	 * daemon has none of them.
	 */
	int (*steer)(void *arg, const char *line,
		     const struct control_peer *peer, FILE *out);
};

struct control;

/*
 * Listens on a new unix socket at path (non-blocking, close-on-exec).  A
 * socket file left at path by a daemon that is gone is replaced; a live
 * one (something accepts connections) gives EADDRINUSE; anything else at
 * path gives EEXIST and is left alone.  The file is made mode 0600 with
 * no window in which it is more open, and given to owner:group unless
 * owner is (uid_t)-1 (then it stays the caller's); only root and that
 * owner may then ask.  The process umask is changed around bind(): call
 * it before other threads create files.  Returns a handle the caller owns
 * (control_close), or NULL with errno set.
 */
struct control *control_open(const char *path, uid_t owner, gid_t group);

/*
 * Opens the socket to group: mode 0660, that group's, whose members may
 * then read (stats, top, show, allow without arguments) but not change.
 * Call it before control_start.  Returns 0 or -errno (the file stays
 * 0600).
 */
int control_set_readers(struct control *c, gid_t group);

/* The listening fd, to poll for POLLIN. */
int control_fd(const struct control *c);

/*
 * Accepts the clients waiting on the socket, reads each one's request and
 * writes the reply ops produce (arg is passed to them), then closes the
 * connection.  Returns within about CONTROL_DEADLINE_MS plus the time the
 * callbacks take; clients still waiting then are served on the next call.
 * Never fails: a client that is silent, sends garbage or too long a line,
 * or goes away, gets an error reply or nothing.
 */
void control_handle(struct control *c, const struct control_ops *ops,
		    void *arg);

/*
 * Serves the socket on a thread of its own, calling ops (with arg) there,
 * until control_close.  Returns 0 or -errno.
 */
int control_start(struct control *c, const struct control_ops *ops, void *arg);

/*
 * Stops the thread, if one serves (waiting for the client in hand), stops
 * listening and removes the socket file, if it is still the one
 * control_open made.  No-op on NULL.
 */
void control_close(struct control *c);

/*
 * The client side: connects to path, sends request (without its '\n'),
 * and writes the reply text to out.  Waits at most timeout_ms for each
 * step.  Returns 0 when the daemon answered "ok" and the whole reply was
 * written to out; otherwise -errno with a message in err[0..errlen):
 * -EREMOTEIO carries the daemon's error reply, -EPROTO a reply that is not
 * the protocol or was cut short, -ETIMEDOUT no answer in time, and the
 * errors of socket(2), connect(2) and the rest as they come.
 */
int control_request(const char *path, const char *request, FILE *out,
		    int timeout_ms, char *err, size_t errlen);

#endif
