#ifndef PROMOBOT_CCURLSHIMS_H
#define PROMOBOT_CCURLSHIMS_H

/*
 * Fixed-argument wrappers for the variadic libcurl calls Swift cannot import:
 * curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt.
 * Only the HTTP module imports this target; it never sees libgit2 (that is CGitShims, for Git).
 */

#include <curl/curl.h>
#include <stdint.h>

typedef size_t (*promobot_curl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

CURLcode promobot_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode promobot_curl_easy_setopt_int64(CURL *handle, CURLoption option, int64_t value);
CURLcode promobot_curl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode promobot_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode promobot_curl_easy_setopt_callback(CURL *handle, CURLoption option, promobot_curl_data_callback value);

CURLcode promobot_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode promobot_curl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLcode promobot_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode promobot_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, int64_t *value);
CURLcode promobot_curl_easy_getinfo_ptr(CURL *handle, CURLINFO info, void **value);

CURLMcode promobot_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* Version string of the libcurl the process runs on (not the headers it was built with). */
const char *promobot_curl_version(void);

#endif
