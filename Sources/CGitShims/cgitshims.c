#include "cgitshims.h"

int promobot_git_opts_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}
int promobot_git_opts_set_timeout(int option, int milliseconds) {
    return git_libgit2_opts(option, milliseconds);
}
int promobot_git_opts_set_int(int option, int value) {
    return git_libgit2_opts(option, value);
}
int promobot_git_opts_set_size(int option, size_t value) {
    return git_libgit2_opts(option, value);
}
int promobot_git_opts_set_cache_max_size(ssize_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, bytes);
}
