// curl_easy_setopt() and curl_easy_getinfo() are variadic, which Swift cannot call: these wrappers can be.
// A transfer also carries the C callbacks Swift would otherwise have to hand to libcurl as function
// pointers: a capped body buffer, the last response's header block, an abort flag, and a check of every
// address libcurl connects to.
#include <curl/curl.h>
#include <stddef.h>

/// One easy handle plus the state its callbacks use. Create, configure the handle, perform once, read, destroy.
/// Only `glassbox_curl_transfer_cancel` may be called from another thread while a transfer runs.
typedef struct glassbox_curl_transfer glassbox_curl_transfer;

/// A new transfer whose response body is kept up to `max_body_bytes` (more makes the transfer stop with
/// CURLE_WRITE_ERROR and `body_truncated` set). NULL when libcurl cannot make a handle.
glassbox_curl_transfer *glassbox_curl_transfer_create(size_t max_body_bytes);
void glassbox_curl_transfer_destroy(glassbox_curl_transfer *transfer);
/// The easy handle, for the setopt wrappers below. Owned by the transfer.
CURL *glassbox_curl_transfer_handle(glassbox_curl_transfer *transfer);

/// Adds a numeric IPv4 or IPv6 address the transfer may connect to. Once one address is added, libcurl
/// may open sockets only to listed addresses (any port). Returns 0, or -1 when the text is not an address.
int glassbox_curl_transfer_allow_address(glassbox_curl_transfer *transfer, const char *numeric_address);

/// Asks a running transfer to stop; it ends with CURLE_ABORTED_BY_CALLBACK within about a second.
/// Safe from any thread.
void glassbox_curl_transfer_cancel(glassbox_curl_transfer *transfer);

/// Runs the transfer (blocking).
CURLcode glassbox_curl_transfer_perform(glassbox_curl_transfer *transfer);

const unsigned char *glassbox_curl_transfer_body(const glassbox_curl_transfer *transfer, size_t *length);
int glassbox_curl_transfer_body_truncated(const glassbox_curl_transfer *transfer);
/// The header lines of the last response, as received (CRLF separated).
const char *glassbox_curl_transfer_headers(const glassbox_curl_transfer *transfer, size_t *length);
/// libcurl's detailed error text of the last perform, or "".
const char *glassbox_curl_transfer_error_text(const glassbox_curl_transfer *transfer);
/// The address libcurl wanted to connect to and the allow-list refused, or "" when none was refused.
const char *glassbox_curl_transfer_refused_address(const glassbox_curl_transfer *transfer);

CURLcode glassbox_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode glassbox_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode glassbox_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list);
CURLcode glassbox_curl_setopt_mime(CURL *handle, curl_mime *mime);
CURLcode glassbox_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode glassbox_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
