#ifndef WINFLEET_CSHIMS_H
#define WINFLEET_CSHIMS_H
// The one small C shim: typed wrappers for libcurl's variadic setopt/getinfo
// calls, which Swift cannot call directly, and the socket-level calls of the
// libcurl event loop (epoll, eventfd, sockaddr handling).
#include <curl/curl.h>

// libcurl's CURLAUTH_* are cast macros Swift cannot import.
static const long WF_CURLAUTH_BASIC = (long)CURLAUTH_BASIC;
static const long WF_CURLAUTH_DIGEST = (long)CURLAUTH_DIGEST;
static const long WF_CURLAUTH_NTLM = (long)CURLAUTH_NTLM;
static const long WF_CURLAUTH_NEGOTIATE = (long)CURLAUTH_NEGOTIATE;

CURLcode wf_easy_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode wf_easy_setopt_string(CURL *easy, CURLoption option, const char *value);
CURLcode wf_easy_setopt_pointer(CURL *easy, CURLoption option, void *value);
CURLcode wf_easy_setopt_off_t(CURL *easy, CURLoption option, curl_off_t value);
CURLcode wf_easy_setopt_write_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode wf_easy_setopt_header_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode wf_easy_setopt_read_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode wf_easy_setopt_seek_function(CURL *easy, int (*fn)(void *, curl_off_t, int));
CURLcode wf_easy_setopt_closesocket_function(CURL *easy, int (*fn)(void *, curl_socket_t));

CURLcode wf_easy_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode wf_easy_getinfo_string(CURL *easy, CURLINFO info, char **value);
CURLcode wf_easy_getinfo_pointer(CURL *easy, CURLINFO info, void **value);
CURLcode wf_easy_getinfo_off_t(CURL *easy, CURLINFO info, curl_off_t *value);

CURLMcode wf_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value);
CURLMcode wf_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
CURLMcode wf_multi_setopt_socket_function(CURLM *multi, int (*fn)(CURL *, curl_socket_t, int, void *, void *));
CURLMcode wf_multi_setopt_timer_function(CURLM *multi, int (*fn)(CURLM *, long, void *));


// epoll and eventfd, for the libcurl event loop (struct epoll_event is packed on x86_64,
// so Swift sees only file descriptors and event masks).
#define WF_EV_IN 1
#define WF_EV_OUT 2
#define WF_EV_ERR 4
int wf_epoll_create(void);
int wf_epoll_add(int epfd, int fd, int events);
int wf_epoll_modify(int epfd, int fd, int events);
int wf_epoll_remove(int epfd, int fd);

// Shuts down `fd` (both directions, the descriptor stays open for its owner to close) only if it is
// still the TCP connection from `local_port` to `peer_ip`:`peer_port`; returns 1 when it did.
int wf_shutdown_if_connection(int fd, int local_port, const char *peer_ip, int peer_port);
int wf_epoll_wait(int epfd, int *fds, int *events, int capacity, int timeout_ms);
int wf_eventfd_create(void);
int wf_eventfd_signal(int fd);
int wf_eventfd_drain(int fd);

#include "CShimsCurses.h"

#endif
