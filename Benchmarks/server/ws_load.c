// WebSocket load client for Glassbox's /api/v1/stream, for scripts/bench-server.
//
//   ws_load HOST PORT CLIENTS SECONDS [PATH]   follow the stream with CLIENTS connections for
//                                              SECONDS; print append-to-client latency and loss
//   ws_load HOST PORT CLIENTS -idle SECONDS    hold CLIENTS idle connections open for SECONDS
//
// Latency of an event = the time it reached this client minus its envelope's timeUnixNano
// (set by the appender just before the append), on the same machine's clock.
// Written in C with epoll so that the load client, not the server, is never the bottleneck.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 200000 /* 10 µs buckets up to 2 s; later ones go to the last */

typedef struct {
    int fd;
    int upgraded;
    char *buf;
    size_t len, cap;
    long long last_seq;
    long long events;
    long long out_of_order;
    long long last_receive_ns;
} client_t;

static long long histogram[BUCKETS + 1];
static long long samples;
static long long max_latency_ns;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record(long long latency) {
    if (latency < 0) latency = 0;
    long long bucket = latency / 10000;
    if (bucket > BUCKETS) bucket = BUCKETS;
    histogram[bucket]++;
    samples++;
    if (latency > max_latency_ns) max_latency_ns = latency;
}

static double percentile(double p) {
    long long target = (long long)(p * samples), seen = 0;
    for (int i = 0; i <= BUCKETS; i++) {
        seen += histogram[i];
        if (seen > target) return (i + 0.5) * 0.01; /* ms */
    }
    return BUCKETS * 0.01;
}

static void handle_message(client_t *c, const char *text, size_t length, long long received) {
    const char *end = text + length, *p = text;
    if (length < 12 || memcmp(text, "{\"kind\":\"events\"", 16) != 0) return;
    while ((p = memmem(p, end - p, "{\"seq\":", 7)) != NULL) {
        long long seq = strtoll(p + 7, NULL, 10);
        const char *t = memmem(p, end - p, "\"timeUnixNano\":", 15);
        if (!t) break;
        long long sent = strtoll(t + 15, NULL, 10);
        if (seq != c->last_seq + 1 && c->last_seq != 0) c->out_of_order++;
        c->last_seq = seq;
        c->events++;
        record(received - sent);
        p = t;
    }
    c->last_receive_ns = received;
}

/* Parses complete frames in the buffer; server frames are never masked. */
static void drain(client_t *c) {
    size_t offset = 0;
    if (!c->upgraded) {
        char *header_end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!header_end) return;
        if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "ws_load: upgrade refused: %.*s\n", (int)(header_end - c->buf), c->buf);
            exit(1);
        }
        c->upgraded = 1;
        offset = header_end + 4 - c->buf;
    }
    long long received = now_ns();
    while (c->len - offset >= 2) {
        unsigned char *f = (unsigned char *)c->buf + offset;
        size_t header = 2, payload = f[1] & 0x7f;
        if (payload == 126) {
            if (c->len - offset < 4) break;
            payload = (f[2] << 8) | f[3];
            header = 4;
        } else if (payload == 127) {
            if (c->len - offset < 10) break;
            payload = 0;
            for (int i = 0; i < 8; i++) payload = (payload << 8) | f[2 + i];
            header = 10;
        }
        if (c->len - offset < header + payload) break;
        if ((f[0] & 0x0f) == 1) handle_message(c, (char *)f + header, payload, received);
        offset += header + payload;
    }
    memmove(c->buf, c->buf + offset, c->len - offset);
    c->len -= offset;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: ws_load HOST PORT CLIENTS SECONDS [PATH] | ws_load HOST PORT CLIENTS -idle SECONDS\n");
        return 64;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), count = atoi(argv[3]);
    int idle = strcmp(argv[4], "-idle") == 0;
    double seconds = atof(argv[idle ? 5 : 4]);
    const char *path = (!idle && argc > 5) ? argv[5] : "/api/v1/stream";
    client_t *clients = calloc(count, sizeof(client_t));
    int epoll = epoll_create1(0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &address.sin_addr);
    for (int i = 0; i < count; i++) {
        client_t *c = &clients[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&address, sizeof address) != 0) {
            fprintf(stderr, "ws_load: connect %d failed: %s\n", i, strerror(errno));
            return 1;
        }
        char request[512];
        int n = snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         path, host, port);
        if (write(c->fd, request, n) != n) return 1;
        c->cap = 1 << 20;
        c->buf = malloc(c->cap);
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
    }
    long long start = now_ns(), deadline = start + (long long)(seconds * 1e9);
    struct epoll_event events[256];
    while (now_ns() < deadline) {
        int ready = epoll_wait(epoll, events, 256, 100);
        for (int i = 0; i < ready; i++) {
            client_t *c = events[i].data.ptr;
            if (c->cap - c->len < 65536) {
                c->cap *= 2;
                c->buf = realloc(c->buf, c->cap);
            }
            ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
            if (n <= 0) {
                fprintf(stderr, "ws_load: client %ld disconnected\n", (long)(c - clients));
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->len += n;
            if (!idle || !c->upgraded) drain(c);
            if (idle) c->len = 0;
        }
    }
    int upgraded = 0;
    long long total = 0, least = -1, disorder = 0, last_seq_min = -1, last_seq_max = 0;
    for (int i = 0; i < count; i++) {
        upgraded += clients[i].upgraded;
        total += clients[i].events;
        disorder += clients[i].out_of_order;
        if (least < 0 || clients[i].events < least) least = clients[i].events;
        if (last_seq_min < 0 || clients[i].last_seq < last_seq_min) last_seq_min = clients[i].last_seq;
        if (clients[i].last_seq > last_seq_max) last_seq_max = clients[i].last_seq;
    }
    if (idle) {
        printf("{\"clients\":%d,\"upgraded\":%d}\n", count, upgraded);
    } else {
        printf("{\"clients\":%d,\"upgraded\":%d,\"events\":%lld,\"fewest_per_client\":%lld,\"out_of_order\":%lld,"
               "\"last_seq_min\":%lld,\"last_seq_max\":%lld,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
               count, upgraded, total, least, disorder, last_seq_min, last_seq_max, percentile(0.5), percentile(0.9),
               percentile(0.99), max_latency_ns / 1e6);
    }
    return 0;
}
