/*
 * lts_server_shim: libh2o glue on libuv. h2o's configuration is built from
 * macros (H2O_STRLIT, header tokens) and struct-embedding handlers; the shim
 * hides them behind one request callback. Requests: header look-up, response
 * sending, dispose hooks and the HTTP/1.1 Upgrade hand-off use h2o memory
 * pools and inline helpers. The server's TLS context is here because it
 * registers h2o's ALPN protocols. Everything but lts_tls_server_ctx runs on
 * the loop thread.
 */
#ifndef LTS_SERVER_SHIM_H
#define LTS_SERVER_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <openssl/ssl.h>

/* ---- HTTP server ------------------------------------------------------ */

/** Opaque server: one h2o context on one libuv loop, one listening socket. */
typedef struct lts_http_server lts_http_server_t;

/** Called on the loop thread for every request. The callee must answer the
 *  request, now or later, with lts_req_send or lts_req_upgrade. */
typedef void (*lts_request_cb)(void *owner, h2o_req_t *req);

/** Creates a server. `ssl_ctx` may be NULL for plain HTTP. `http2` enables
 *  ALPN h2 (TLS) and h2c upgrade (plain). `max_body_bytes` is the largest
 *  request entity h2o buffers; larger ones are answered 413 by h2o. */
lts_http_server_t *lts_http_server_new(uv_loop_t *loop, SSL_CTX *ssl_ctx, int http2, size_t max_body_bytes,
                                       uint64_t idle_timeout_ms, lts_request_cb cb, void *owner);

/** Binds and listens. Returns the bound port (>0), or a negative libuv error. */
int lts_http_server_listen(lts_http_server_t *server, const char *host, int port);

/** Connections accepted from now on use `ssl_ctx`, which the caller keeps
 *  alive as long as the server may accept with it (connections already
 *  open hold their own reference to the old one). */
void lts_http_server_set_ssl_ctx(lts_http_server_t *server, SSL_CTX *ssl_ctx);

/** Stops accepting: closes the listening socket and asks h2o to end
 *  keep-alive connections after their current request. */
void lts_http_server_stop_accepting(lts_http_server_t *server);

/** Frees the server, on the loop thread while the loop still runs (its
 *  handles close through it); stops accepting first if needed. h2o's context
 *  can go only when no connection refers to it, so the memory is released
 *  when the last accepted connection closes (at once when none is open);
 *  connections still open when the loop is closed keep it. `server` must
 *  not be used after the call. */
void lts_http_server_free(lts_http_server_t *server);

/* ---- Connection limits ------------------------------------------------ */

/** Caps on a server's accepted connections. A connection counts as "fresh"
 *  from its accept until its first request: its TLS handshake and any wait
 *  before it asks something. */
typedef struct lts_connection_limits {
    size_t total;
    size_t per_address;
    size_t fresh;
    size_t fresh_per_address;
    /** HTTP/2 streams a connection may reset before their answer within
     *  one second; past it the connection is closed. */
    unsigned resets_per_second;
} lts_connection_limits_t;

/** What a server did when a limit bit (the index into the stats' events). */
typedef enum lts_limit_event {
    /** A new connection refused: its address holds `per_address`. */
    LTS_LIMIT_PER_ADDRESS_REFUSED = 0,
    /** A new connection refused: its address holds `fresh_per_address`. */
    LTS_LIMIT_FRESH_PER_ADDRESS_REFUSED,
    /** The least recently active idle connection closed to make room. */
    LTS_LIMIT_IDLE_EVICTED,
    /** A new connection refused: `total` reached and none idle. */
    LTS_LIMIT_TOTAL_REFUSED,
    /** The oldest fresh connection closed to make room for a new one. */
    LTS_LIMIT_FRESH_EVICTED,
    /** An upload aborted: its Content-Length or its bytes so far passed
     *  its route's limit. */
    LTS_LIMIT_BODY_ABORTED,
    /** An HTTP/2 connection closed for resetting too many streams. */
    LTS_LIMIT_RESETS_CLOSED,
    /** A connection whose peer reset it while h2o waited on a write that
     *  libuv had refused, closed (see lts_connections.c). */
    LTS_LIMIT_STUCK_CLOSED,
    LTS_LIMIT_EVENT_COUNT
} lts_limit_event_t;

/** Called on the loop thread each time a limit bites, with the peer's
 *  numeric address. */
typedef void (*lts_limit_cb)(void *owner, int event, const char *address);

/** The body limit of the route `method path` (path without its query). */
typedef size_t (*lts_body_limit_cb)(void *owner, const char *method, size_t method_len, const char *path, size_t path_len);

/** Sets the caps (before listening) and the callbacks. */
void lts_http_server_set_limits(lts_http_server_t *server, const lts_connection_limits_t *limits, lts_limit_cb on_limit,
                                lts_body_limit_cb body_limit);

/** A server's connections now, and how often each limit bit. */
typedef struct lts_connection_stats {
    size_t open;
    size_t fresh;
    uint64_t events[LTS_LIMIT_EVENT_COUNT];
} lts_connection_stats_t;

void lts_http_server_stats(lts_http_server_t *server, lts_connection_stats_t *stats);

/* ---- Requests --------------------------------------------------------- */

/** Value of the first request header `name` (lower case), or {NULL, 0}. */
h2o_iovec_t lts_req_header(h2o_req_t *req, const char *name);

/** Value of the next request header `name` (lower case) after index
 *  `*cursor` (start at -1), which it advances; {NULL, 0} when there is no
 *  more. For a header that may be repeated (X-Forwarded-For), whose values
 *  count in order. */
h2o_iovec_t lts_req_header_next(h2o_req_t *req, const char *name, ssize_t *cursor);

/** Copies the peer's numeric address into `buf` ("" when unknown). */
void lts_req_peer_address(h2o_req_t *req, char *buf, size_t buflen);

/** Adds a response header; both strings are copied into the request pool. */
void lts_req_add_header(h2o_req_t *req, const char *name, size_t name_len, const char *value, size_t value_len);

/** Sends the whole response; the body is copied by h2o. */
void lts_req_send(h2o_req_t *req, int status, const char *body, size_t len);

typedef void (*lts_dispose_cb)(void *obj);

/** Calls `cb(obj)` when h2o frees the request (answered, or connection
 *  gone). After that the request pointer must not be touched. */
void lts_req_on_dispose(h2o_req_t *req, void *obj, lts_dispose_cb cb);

/** 1 when the request is HTTP/1.1 and asks to upgrade to `protocol`. */
int lts_req_wants_upgrade(h2o_req_t *req, const char *protocol);

typedef void (*lts_upgrade_cb)(void *obj, h2o_socket_t *sock);

/** Answers 101 Switching Protocols (with the response headers added so far
 *  and `Upgrade: protocol`) and hands the connection's socket to `cb`, with
 *  the request bytes already consumed from its input. `sock` is NULL when the
 *  101 could not be written. Returns 0, or -1 (out of memory) with nothing
 *  sent and `cb` never called: the request still needs an answer. */
int lts_req_upgrade(h2o_req_t *req, const char *protocol, void *obj, lts_upgrade_cb cb);

/* ---- The process ------------------------------------------------------ */

/** Serves every block of `bytes` or more by its own mapping (freed at
 *  once), instead of glibc's threshold that grows with the largest block
 *  freed. Returns mallopt's result (1 on success). */
int lts_allocator_fix_mmap_threshold(int bytes);

/** Sets the calling thread's own nice value (Linux keeps one per thread).
 *  Returns 0, or -1 with errno. */
int lts_thread_set_niceness(int niceness);

/** Asks the kernel to send SIGTERM to this process when the thread that
 *  started it ends (its supervisor killed, even by SIGKILL), then checks
 *  that the parent is still `supervisor`: one that died before the request
 *  is caught too. Returns 0, 1 when the parent is already another process,
 *  or -1 with errno when the request failed. */
int lts_process_end_with_parent(pid_t supervisor);

/* ---- TLS -------------------------------------------------------------- */

/** A TLS 1.2+ server context with the given PEM certificate chain and key.
 *  The key file is opened with O_NOFOLLOW: a symbolic link is refused.
 *  With `http2`, ALPN offers h2 then http/1.1. NULL on error, with `err`. */
SSL_CTX *lts_tls_server_ctx(const char *cert_path, const char *key_path, int http2, char *err, size_t errlen);

#endif
