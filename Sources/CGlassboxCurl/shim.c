#include "CGlassboxCurl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { max_allowed_addresses = 64, max_header_bytes = 64 * 1024 };

struct allowed_address {
    int family;
    unsigned char bytes[16];
};

struct glassbox_curl_transfer {
    CURL *handle;
    unsigned char *body;
    size_t body_length;
    size_t body_capacity;
    size_t max_body;
    int body_truncated;
    char *headers;
    size_t headers_length;
    int cancelled; // read and written with __atomic builtins only
    struct allowed_address allowed[max_allowed_addresses];
    int allowed_count;
    char refused[INET6_ADDRSTRLEN];
    char error[CURL_ERROR_SIZE];
};

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;

static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t write_body(char *data, size_t size, size_t count, void *context) {
    struct glassbox_curl_transfer *t = context;
    size_t length = size * count;
    size_t room = t->max_body - t->body_length;
    size_t keep = length < room ? length : room;
    if (keep > 0) {
        if (t->body_length + keep > t->body_capacity) {
            size_t capacity = t->body_capacity ? t->body_capacity : 16 * 1024;
            while (capacity < t->body_length + keep) capacity *= 2;
            if (capacity > t->max_body) capacity = t->max_body;
            unsigned char *grown = realloc(t->body, capacity);
            if (!grown) return 0;
            t->body = grown;
            t->body_capacity = capacity;
        }
        memcpy(t->body + t->body_length, data, keep);
        t->body_length += keep;
    }
    if (keep < length) {
        // More than the cap: stop the transfer; the caller sees CURLE_WRITE_ERROR with the flag set.
        t->body_truncated = 1;
        return 0;
    }
    return length;
}

static size_t write_header(char *data, size_t size, size_t count, void *context) {
    struct glassbox_curl_transfer *t = context;
    size_t length = size * count;
    // A new status line starts a new response (after a 100 Continue or a redirect): keep only the last.
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) t->headers_length = 0;
    if (t->headers_length + length <= max_header_bytes) {
        memcpy(t->headers + t->headers_length, data, length);
        t->headers_length += length;
        t->headers[t->headers_length] = 0;
    }
    return length;
}

static int progress(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    struct glassbox_curl_transfer *t = context;
    return __atomic_load_n(&t->cancelled, __ATOMIC_SEQ_CST) ? 1 : 0;
}

static curl_socket_t open_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    struct glassbox_curl_transfer *t = context;
    if (t->allowed_count > 0) {
        const unsigned char *bytes = NULL;
        size_t length = 0;
        if (address->family == AF_INET) {
            bytes = (const unsigned char *)&((const struct sockaddr_in *)&address->addr)->sin_addr;
            length = 4;
        } else if (address->family == AF_INET6) {
            bytes = (const unsigned char *)&((const struct sockaddr_in6 *)&address->addr)->sin6_addr;
            length = 16;
        }
        int allowed = 0;
        for (int i = 0; bytes && i < t->allowed_count && !allowed; i++) {
            allowed = t->allowed[i].family == address->family && memcmp(t->allowed[i].bytes, bytes, length) == 0;
        }
        if (!allowed) {
            if (bytes) inet_ntop(address->family, bytes, t->refused, sizeof t->refused);
            else strcpy(t->refused, "(not an IP address)");
            return CURL_SOCKET_BAD;
        }
    }
    return socket(address->family, address->socktype, address->protocol);
}

glassbox_curl_transfer *glassbox_curl_transfer_create(size_t max_body_bytes) {
    pthread_once(&global_init_once, global_init);
    struct glassbox_curl_transfer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->headers = malloc(max_header_bytes + 1);
    t->handle = curl_easy_init();
    if (!t->headers || !t->handle) {
        glassbox_curl_transfer_destroy(t);
        return NULL;
    }
    t->headers[0] = 0;
    t->max_body = max_body_bytes;
    CURL *h = t->handle;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error);
    // Signals would be delivered to an arbitrary thread of the Swift process.
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    return t;
}

void glassbox_curl_transfer_destroy(glassbox_curl_transfer *t) {
    if (!t) return;
    if (t->handle) curl_easy_cleanup(t->handle);
    free(t->body);
    free(t->headers);
    free(t);
}

CURL *glassbox_curl_transfer_handle(glassbox_curl_transfer *t) { return t->handle; }

int glassbox_curl_transfer_allow_address(glassbox_curl_transfer *t, const char *numeric_address) {
    if (t->allowed_count >= max_allowed_addresses) return -1;
    struct allowed_address *slot = &t->allowed[t->allowed_count];
    if (inet_pton(AF_INET, numeric_address, slot->bytes) == 1) {
        slot->family = AF_INET;
    } else if (inet_pton(AF_INET6, numeric_address, slot->bytes) == 1) {
        slot->family = AF_INET6;
    } else {
        return -1;
    }
    t->allowed_count++;
    return 0;
}

void glassbox_curl_transfer_cancel(glassbox_curl_transfer *t) { __atomic_store_n(&t->cancelled, 1, __ATOMIC_SEQ_CST); }

CURLcode glassbox_curl_transfer_perform(glassbox_curl_transfer *t) {
    t->error[0] = 0;
    t->refused[0] = 0;
    return curl_easy_perform(t->handle);
}

const unsigned char *glassbox_curl_transfer_body(const glassbox_curl_transfer *t, size_t *length) {
    *length = t->body_length;
    return t->body;
}

int glassbox_curl_transfer_body_truncated(const glassbox_curl_transfer *t) { return t->body_truncated; }

const char *glassbox_curl_transfer_headers(const glassbox_curl_transfer *t, size_t *length) {
    *length = t->headers_length;
    return t->headers;
}

const char *glassbox_curl_transfer_error_text(const glassbox_curl_transfer *t) { return t->error; }

const char *glassbox_curl_transfer_refused_address(const glassbox_curl_transfer *t) { return t->refused; }

CURLcode glassbox_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode glassbox_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode glassbox_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}

CURLcode glassbox_curl_setopt_mime(CURL *handle, curl_mime *mime) {
    return curl_easy_setopt(handle, CURLOPT_MIMEPOST, mime);
}

CURLcode glassbox_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode glassbox_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    char *text = NULL;
    CURLcode code = curl_easy_getinfo(handle, info, &text);
    *value = text;
    return code;
}
