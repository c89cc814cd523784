/*
 * A plain TCP stream for libgit2 that sets TCP_NODELAY.
 *
 * libgit2 1.5's own socket stream leaves Nagle's algorithm on and writes an HTTP POST's headers and
 * body in separate send() calls, so every upload-pack / receive-pack request waits for the server's
 * delayed ACK (about 40 ms on Linux). Registered as GIT_STREAM_STANDARD it also carries https:
 * libgit2's OpenSSL stream wraps whatever standard stream is registered.
 *
 * It also notes, per thread, how the last exchange ended (connect failure, I/O error, end of file)
 * and, for plain http, the status and Retry-After of the last response head, so the Git module can
 * tell a transient failure from a permanent one and wait as long as the server asked.
 */
#define _GNU_SOURCE
#include "cgitshims.h"

#include <git2/sys/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* What this thread's connections saw; see promobot_git_observation_reset in cgitshims.h. */
static _Thread_local int observed_failure = PROMOBOT_GIT_TRANSPORT_OK;
static _Thread_local int observed_status = 0;
static _Thread_local char observed_retry_after[64];

void promobot_git_observation_reset(void) {
    observed_failure = PROMOBOT_GIT_TRANSPORT_OK;
    observed_status = 0;
    observed_retry_after[0] = '\0';
}

int promobot_git_observed_failure(void) { return observed_failure; }

int promobot_git_observed_status(void) { return observed_status; }

void promobot_git_observed_retry_after(char *buffer, size_t size) {
    if (size == 0) return;
    snprintf(buffer, size, "%s", observed_retry_after);
}

/* Connections whose TCP_NODELAY reads back as set: lets tests prove libgit2 really uses this stream. */
static _Thread_local long nodelay_connections = 0;

long promobot_git_thread_nodelay_connections(void) { return nodelay_connections; }

typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int fd;
    int connect_timeout_ms;
    int io_timeout_ms;
    /* 1 while the client is writing a request, 0 once it reads the answer. */
    int writing;
    /* 1 from a request's first write until its response head is parsed or ruled out (TLS, too long). */
    int awaiting_head;
    char head[4096];
    size_t head_length;
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
        observed_failure = PROMOBOT_GIT_TRANSPORT_CONNECT;
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
        observed_failure = PROMOBOT_GIT_TRANSPORT_CONNECT;
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

/* Case-insensitive: does the line at `line` start with header `name` followed by a colon? */
static const char *header_value(const char *line, const char *end, const char *name) {
    size_t length = strlen(name);
    if ((size_t)(end - line) <= length || strncasecmp(line, name, length) != 0 || line[length] != ':') return NULL;
    const char *value = line + length + 1;
    while (value < end && (*value == ' ' || *value == '\t')) value++;
    return value;
}

/* Parses a complete response head (status line and headers, up to the blank line) into the observation. */
static void parse_head(const char *head, size_t length) {
    /* "HTTP/1.1 503 Service Unavailable" */
    const char *space = memchr(head, ' ', length);
    if (space == NULL || space + 4 > head + length) return;
    int status = 0;
    for (const char *p = space + 1; p < space + 4; p++) {
        if (!isdigit((unsigned char)*p)) return;
        status = status * 10 + (*p - '0');
    }
    observed_status = status;
    observed_retry_after[0] = '\0';
    const char *line = memchr(head, '\n', length);
    while (line != NULL && ++line < head + length) {
        const char *end = memchr(line, '\n', (size_t)(head + length - line));
        if (end == NULL) end = head + length;
        const char *value = header_value(line, end, "Retry-After");
        if (value != NULL) {
            const char *stop = end;
            while (stop > value && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t')) stop--;
            size_t size = (size_t)(stop - value);
            if (size >= sizeof observed_retry_after) size = sizeof observed_retry_after - 1;
            memcpy(observed_retry_after, value, size);
            observed_retry_after[size] = '\0';
        }
        line = end < head + length ? end : NULL;
    }
}

/*
 * Feeds the first bytes of a response to the head parser. Only plain HTTP starts with "HTTP/"; TLS
 * records (https through this stream) never do, so they are ignored, as is a head over 4 KiB.
 */
static void observe_response(nodelay_stream *s, const char *data, size_t length) {
    size_t room = sizeof s->head - s->head_length;
    size_t take = length < room ? length : room;
    memcpy(s->head + s->head_length, data, take);
    s->head_length += take;
    size_t prefix = s->head_length < 5 ? s->head_length : 5;
    if (memcmp(s->head, "HTTP/", prefix) != 0) { s->awaiting_head = 0; return; }
    for (size_t i = 3; i < s->head_length; i++) {
        if (memcmp(s->head + i - 3, "\r\n\r\n", 4) == 0) {
            parse_head(s->head, i - 1);
            s->awaiting_head = 0;
            return;
        }
    }
    if (s->head_length == sizeof s->head) s->awaiting_head = 0;
}

static ssize_t nodelay_read(git_stream *stream, void *data, size_t len) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    s->writing = 0;
    do { n = recv(s->fd, data, len, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) {
        set_io_error(s, "receiving from", errno);
        observed_failure = PROMOBOT_GIT_TRANSPORT_IO;
    } else if (n == 0) {
        observed_failure = PROMOBOT_GIT_TRANSPORT_EOF;
    } else if (s->awaiting_head) {
        observe_response(s, data, (size_t)n);
    }
    return n;
}

static ssize_t nodelay_write(git_stream *stream, const char *data, size_t len, int flags) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    if (!s->writing) {
        /* A new request: what the previous exchange saw no longer describes the one that may fail. */
        s->writing = 1;
        s->awaiting_head = 1;
        s->head_length = 0;
        promobot_git_observation_reset();
    }
    /* MSG_NOSIGNAL: a peer that hangs up is an error to report, not a SIGPIPE that kills the process. */
    do { n = send(s->fd, data, len, flags | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n < 0) {
        set_io_error(s, "sending to", errno);
        observed_failure = PROMOBOT_GIT_TRANSPORT_IO;
    }
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
