/*
 * A plain TCP stream for libgit2 that sets TCP_NODELAY.
 *
 * libgit2 1.5's own socket stream leaves Nagle's algorithm on and writes an HTTP POST's headers and
 * body in separate send() calls, so every upload-pack / receive-pack request waits for the server's
 * delayed ACK (about 40 ms on Linux). Registered as GIT_STREAM_STANDARD it also carries https:
 * libgit2's OpenSSL stream wraps whatever standard stream is registered.
 */
#define _GNU_SOURCE
#include "cshims.h"

#include <git2/sys/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Timeouts for connections opened by this thread. libgit2 hands a stream only host and port, but it
 * creates the stream on the thread running the git operation, so the caller sets them just before.
 */
static _Thread_local int connect_timeout_ms = 10000;
static _Thread_local int io_timeout_ms = 120000;

void promobot_git_set_stream_timeouts(int connect_ms, int io_ms) {
    connect_timeout_ms = connect_ms > 0 ? connect_ms : 10000;
    io_timeout_ms = io_ms > 0 ? io_ms : 120000;
}

/* Connects within connect_timeout_ms: non-blocking connect, then poll for writability. */
static int connect_with_timeout(int fd, const struct sockaddr *address, socklen_t length, int timeout_ms) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
    int result = connect(fd, address, length);
    if (result < 0 && errno == EINPROGRESS) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int ready;
        do { ready = poll(&pfd, 1, timeout_ms); } while (ready < 0 && errno == EINTR);
        if (ready == 0) { errno = ETIMEDOUT; return -1; }
        if (ready < 0) return -1;
        int error = 0;
        socklen_t size = sizeof error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0) return -1;
        if (error != 0) { errno = error; return -1; }
        result = 0;
    }
    if (result < 0) return -1;
    return fcntl(fd, F_SETFL, flags);
}

/* Connections whose TCP_NODELAY reads back as set: lets tests prove libgit2 really uses this stream. */
static _Atomic long nodelay_connections = 0;

long promobot_git_nodelay_connections(void) { return nodelay_connections; }

typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int fd;
    int connect_timeout_ms;
    int io_timeout_ms;
} nodelay_stream;

static void set_net_error(const char *what, const char *host, int code) {
    char message[512];
    snprintf(message, sizeof message, "%s %s: %s", what, host, strerror(code));
    git_error_set_str(GIT_ERROR_NET, message);
}

static int nodelay_connect(git_stream *stream) {
    nodelay_stream *s = (nodelay_stream *)stream;
    struct addrinfo hints, *info = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(s->host, s->port, &hints, &info);
    if (rc != 0) {
        char message[512];
        snprintf(message, sizeof message, "failed to resolve address for %s: %s", s->host, gai_strerror(rc));
        git_error_set_str(GIT_ERROR_NET, message);
        return -1;
    }
    int fd = -1, last = ECONNREFUSED;
    for (struct addrinfo *p = info; p != NULL; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) { last = errno; continue; }
        if (connect_with_timeout(fd, p->ai_addr, p->ai_addrlen, s->connect_timeout_ms) == 0) break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(info);
    if (fd < 0) {
        set_net_error("failed to connect to", s->host, last);
        return -1;
    }
    int one = 1, readBack = 0;
    socklen_t size = sizeof readBack;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
        getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &readBack, &size) == 0 && readBack) {
        nodelay_connections++;
    }
    /* A server that stops answering fails the operation instead of hanging the cycle. */
    struct timeval timeout = { .tv_sec = s->io_timeout_ms / 1000, .tv_usec = (s->io_timeout_ms % 1000) * 1000 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    s->fd = fd;
    return 0;
}

/* Reports a failed recv/send: a socket timeout in words, anything else with strerror. */
static void set_io_error(const nodelay_stream *s, const char *doing, int code) {
    char message[512];
    if (code == EAGAIN || code == EWOULDBLOCK) {
        snprintf(message, sizeof message, "timed out after %d ms %s %s", s->io_timeout_ms, doing, s->host);
    } else {
        snprintf(message, sizeof message, "error %s %s: %s", doing, s->host, strerror(code));
    }
    git_error_set_str(GIT_ERROR_NET, message);
}

static ssize_t nodelay_read(git_stream *stream, void *data, size_t len) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    do { n = recv(s->fd, data, len, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) set_io_error(s, "receiving from", errno);
    return n;
}

static ssize_t nodelay_write(git_stream *stream, const char *data, size_t len, int flags) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    /* MSG_NOSIGNAL: a peer that hangs up is an error to report, not a SIGPIPE that kills the process. */
    do { n = send(s->fd, data, len, flags | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n < 0) set_io_error(s, "sending to", errno);
    return n;
}

static int nodelay_close(git_stream *stream) {
    nodelay_stream *s = (nodelay_stream *)stream;
    if (s->fd >= 0 && close(s->fd) < 0) {
        s->fd = -1;
        set_net_error("error closing the connection to", s->host, errno);
        return -1;
    }
    s->fd = -1;
    return 0;
}

static void nodelay_free(git_stream *stream) {
    nodelay_stream *s = (nodelay_stream *)stream;
    if (s->fd >= 0) close(s->fd);
    free(s->host);
    free(s->port);
    free(s);
}

static int nodelay_new(git_stream **out, const char *host, const char *port) {
    nodelay_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->host = strdup(host);
    s->port = strdup(port);
    if (s->host == NULL || s->port == NULL) { nodelay_free(&s->parent); return -1; }
    s->fd = -1;
    s->connect_timeout_ms = connect_timeout_ms;
    s->io_timeout_ms = io_timeout_ms;
    s->parent.version = GIT_STREAM_VERSION;
    s->parent.connect = nodelay_connect;
    s->parent.read = nodelay_read;
    s->parent.write = nodelay_write;
    s->parent.close = nodelay_close;
    s->parent.free = nodelay_free;
    *out = &s->parent;
    return 0;
}

int promobot_git_register_nodelay_stream(void) {
    git_stream_registration registration;
    memset(&registration, 0, sizeof registration);
    registration.version = GIT_STREAM_VERSION;
    registration.init = nodelay_new;
    return git_stream_register(GIT_STREAM_STANDARD, &registration);
}
