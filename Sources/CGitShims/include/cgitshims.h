#ifndef PROMOBOT_CSHIMS_H
#define PROMOBOT_CSHIMS_H

/*
 * libgit2 helpers for the Git module: fixed-argument wrappers for the variadic git_libgit2_opts,
 * and promobot's TCP stream (see git_nodelay_stream.c). Only the Git module (and its tests)
 * imports this target; libcurl's wrappers are CCurlShims, for HTTP.
 */

#include <git2.h>
#include <stddef.h>
#include <stdint.h>

/* git_libgit2_opts with each option's fixed signature. */
int promobot_git_opts_set_ssl_cert_locations(const char *file, const char *path);
/// `git_libgit2_opts` for the options that take a `size_t` (the mwindow limits).
int promobot_git_opts_set_size(int option, size_t value);
/// `GIT_OPT_SET_CACHE_MAX_SIZE` (an `ssize_t`).
int promobot_git_opts_set_cache_max_size(ssize_t bytes);
int promobot_git_opts_set_timeout(int option, int milliseconds);
int promobot_git_opts_set_int(int option, int value);

/*
 * Registers a plain TCP stream for libgit2 that sets TCP_NODELAY (see git_nodelay_stream.c).
 * Call once, after git_libgit2_init. Returns 0 or a libgit2 error code.
 */
int promobot_git_register_nodelay_stream(void);
/* Connect and read/write timeouts, in milliseconds, for connections this thread opens from now on. */
void promobot_git_set_stream_timeouts(int connect_ms, int io_ms);
/* How many connections this thread opened through that stream with TCP_NODELAY in effect (for tests:
 * per thread, so a caller measures its own operations, never another test's). */
long promobot_git_thread_nodelay_connections(void);

/*
 * What this thread's connections saw, for deciding whether a failed git operation is worth retrying.
 * Every new request written clears it, so after a failure it describes the exchange that failed.
 * libgit2 runs an operation, and so its streams, on the calling thread: read it right after the
 * failing call, on the same thread (like git_error_last).
 */
#define PROMOBOT_GIT_TRANSPORT_OK 0
/* The host could not be resolved, refused the connection, or the connect timed out. */
#define PROMOBOT_GIT_TRANSPORT_CONNECT 1
/* A read or write failed (connection reset, broken pipe, I/O timeout). */
#define PROMOBOT_GIT_TRANSPORT_IO 2
/* The peer closed the connection (a read returned end of file). */
#define PROMOBOT_GIT_TRANSPORT_EOF 3

/* Forgets what this thread's connections saw. */
void promobot_git_observation_reset(void);
/* One of PROMOBOT_GIT_TRANSPORT_*: the last transport failure this thread's connections saw. */
int promobot_git_observed_failure(void);
/*
 * The status of the last plain-HTTP response head this thread read (0: none). Over https the stream
 * carries TLS records, so neither the status nor Retry-After can be seen there.
 */
int promobot_git_observed_status(void);
/* Copies that response's Retry-After value, NUL-terminated ("" when absent), into buffer. */
void promobot_git_observed_retry_after(char *buffer, size_t size);

#endif
