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
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections whose TCP_NODELAY reads back as set: lets tests prove libgit2 really uses this stream. */
static _Atomic long nodelay_connections = 0;

long promobot_git_nodelay_connections(void) { return nodelay_connections; }

typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int fd;
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
        int result;
        do { result = connect(fd, p->ai_addr, p->ai_addrlen); } while (result < 0 && errno == EINTR);
        if (result == 0) break;
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
    s->fd = fd;
    return 0;
}

static ssize_t nodelay_read(git_stream *stream, void *data, size_t len) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    do { n = recv(s->fd, data, len, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) set_net_error("error receiving data from", s->host, errno);
    return n;
}

static ssize_t nodelay_write(git_stream *stream, const char *data, size_t len, int flags) {
    nodelay_stream *s = (nodelay_stream *)stream;
    ssize_t n;
    /* MSG_NOSIGNAL: a peer that hangs up is an error to report, not a SIGPIPE that kills the process. */
    do { n = send(s->fd, data, len, flags | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n < 0) set_net_error("error sending data to", s->host, errno);
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
