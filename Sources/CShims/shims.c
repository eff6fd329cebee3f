#include "CShims.h"
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

CURLcode wf_easy_setopt_long(CURL *easy, CURLoption option, long value) { return curl_easy_setopt(easy, option, value); }
CURLcode wf_easy_setopt_string(CURL *easy, CURLoption option, const char *value) { return curl_easy_setopt(easy, option, value); }
CURLcode wf_easy_setopt_pointer(CURL *easy, CURLoption option, void *value) { return curl_easy_setopt(easy, option, value); }
CURLcode wf_easy_setopt_off_t(CURL *easy, CURLoption option, curl_off_t value) { return curl_easy_setopt(easy, option, value); }
CURLcode wf_easy_setopt_write_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *)) { return curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fn); }
CURLcode wf_easy_setopt_header_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *)) { return curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, fn); }

CURLcode wf_easy_setopt_read_function(CURL *easy, size_t (*fn)(char *, size_t, size_t, void *)) { return curl_easy_setopt(easy, CURLOPT_READFUNCTION, fn); }
CURLcode wf_easy_setopt_seek_function(CURL *easy, int (*fn)(void *, curl_off_t, int)) { return curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, fn); }
CURLcode wf_easy_setopt_closesocket_function(CURL *easy, int (*fn)(void *, curl_socket_t)) { return curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, fn); }

CURLcode wf_easy_getinfo_long(CURL *easy, CURLINFO info, long *value) { return curl_easy_getinfo(easy, info, value); }
CURLcode wf_easy_getinfo_string(CURL *easy, CURLINFO info, char **value) { return curl_easy_getinfo(easy, info, value); }
CURLcode wf_easy_getinfo_pointer(CURL *easy, CURLINFO info, void **value) { return curl_easy_getinfo(easy, info, value); }
CURLcode wf_easy_getinfo_off_t(CURL *easy, CURLINFO info, curl_off_t *value) { return curl_easy_getinfo(easy, info, value); }

CURLMcode wf_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value) { return curl_multi_setopt(multi, option, value); }
CURLMcode wf_multi_setopt_long(CURLM *multi, CURLMoption option, long value) { return curl_multi_setopt(multi, option, value); }
CURLMcode wf_multi_setopt_socket_function(CURLM *multi, int (*fn)(CURL *, curl_socket_t, int, void *, void *)) { return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, fn); }
CURLMcode wf_multi_setopt_timer_function(CURLM *multi, int (*fn)(CURLM *, long, void *)) { return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, fn); }

static uint32_t wf_to_epoll(int events) {
    uint32_t mask = 0;
    if (events & WF_EV_IN) mask |= EPOLLIN;
    if (events & WF_EV_OUT) mask |= EPOLLOUT;
    return mask;
}

int wf_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int wf_epoll_add(int epfd, int fd, int events) {
    struct epoll_event event = { .events = wf_to_epoll(events), .data = { .fd = fd } };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int wf_epoll_modify(int epfd, int fd, int events) {
    struct epoll_event event = { .events = wf_to_epoll(events), .data = { .fd = fd } };
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}

int wf_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int wf_epoll_wait(int epfd, int *fds, int *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        fds[i] = ready[i].data.fd;
        int mask = 0;
        if (ready[i].events & EPOLLIN) mask |= WF_EV_IN;
        if (ready[i].events & EPOLLOUT) mask |= WF_EV_OUT;
        if (ready[i].events & (EPOLLERR | EPOLLHUP)) mask |= WF_EV_ERR;
        events[i] = mask;
    }
    return count;
}

int wf_eventfd_create(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
int wf_eventfd_signal(int fd) { uint64_t one = 1; return (int)write(fd, &one, sizeof one); }
int wf_eventfd_drain(int fd) { uint64_t value; return (int)read(fd, &value, sizeof value); }

static int wf_address(const struct sockaddr_storage *address, char *ip, size_t size, int *port) {
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        *port = ntohs(in->sin_port);
        return inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)size) != NULL;
    }
    if (address->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        *port = ntohs(in6->sin6_port);
        return inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)size) != NULL;
    }
    return 0;
}

int wf_shutdown_if_connection(int fd, int local_port, const char *peer_ip, int peer_port) {
    struct sockaddr_storage local, peer;
    socklen_t local_length = sizeof(local), peer_length = sizeof(peer);
    char local_ip[INET6_ADDRSTRLEN], remote_ip[INET6_ADDRSTRLEN];
    int local_found = 0, remote_found = 0;
    if (fd < 0) return 0;
    if (getsockname(fd, (struct sockaddr *)&local, &local_length) != 0) return 0;
    if (getpeername(fd, (struct sockaddr *)&peer, &peer_length) != 0) return 0;
    if (!wf_address(&local, local_ip, sizeof(local_ip), &local_found)) return 0;
    if (!wf_address(&peer, remote_ip, sizeof(remote_ip), &remote_found)) return 0;
    if (local_found != local_port || remote_found != peer_port || strcmp(remote_ip, peer_ip) != 0) return 0;
    return shutdown(fd, SHUT_RDWR) == 0;
}
