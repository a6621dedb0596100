/*
 * lts_shim: the C glue Swift cannot call directly.
 *
 * Every symbol here starts with `lts_`. Each group says why it is C and not
 * Swift:
 *   - HTTP server: h2o's configuration is built from macros (H2O_STRLIT,
 *     header tokens) and struct-embedding handlers; the shim hides them
 *     behind one request callback.
 *   - Requests: header look-up, response sending, dispose hooks and the
 *     HTTP/1.1 Upgrade hand-off use h2o memory pools and inline helpers.
 *   - TLS: OpenSSL 3 key generation and protocol limits are macros or
 *     variadic functions (EVP_EC_gen, SSL_CTX_set_min_proto_version).
 *   - curl: curl_easy_setopt is variadic (HTTP requests and SMTP mail).
 * Nothing here keeps global mutable state except OpenSSL's own and the
 * certificate pin's ex-data index, registered once (pthread_once). Every
 * function may be called from any thread unless it says otherwise; the curl
 * client is shared by threads (load generators, LicenseClient).
 */
#ifndef LTS_SHIM_H
#define LTS_SHIM_H

#include <stddef.h>
#include <stdint.h>
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

/* ---- Requests --------------------------------------------------------- */

/** Value of the first request header `name` (lower case), or {NULL, 0}. */
h2o_iovec_t lts_req_header(h2o_req_t *req, const char *name);

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

/* ---- TLS -------------------------------------------------------------- */

/** A TLS 1.2+ server context with the given PEM certificate chain and key.
 *  The key file is opened with O_NOFOLLOW: a symbolic link is refused.
 *  With `http2`, ALPN offers h2 then http/1.1. NULL on error, with `err`. */
SSL_CTX *lts_tls_server_ctx(const char *cert_path, const char *key_path, int http2, char *err, size_t errlen);

/** A TLS 1.2+ client context that verifies the peer:
 *  with `pin_sha256` (32 bytes) the leaf certificate's SHA-256 must match it;
 *  else with `ca_file` the chain must lead to it; else the system CAs.
 *  `insecure` disables verification and exists only for explicit flags. */
SSL_CTX *lts_tls_client_ctx(const char *ca_file, const unsigned char *pin_sha256, int insecure, char *err,
                            size_t errlen);

/** Writes a new EC P-256 key and a self-signed certificate valid `days`
 *  days with the subject alternative names `sans` ("DNS:a,IP:127.0.0.1").
 *  The key file is created 0600; neither file is written through a
 *  symbolic link (O_NOFOLLOW). Returns 0, or -1 with `err`. */
int lts_tls_generate_self_signed(const char *cert_path, const char *key_path, const char *common_name,
                                 const char *sans, int days, char *err, size_t errlen);

/** SHA-256 of the DER form of the first certificate in a PEM file. 0 or -1. */
int lts_tls_cert_fingerprint(const char *cert_path, unsigned char out[32]);

/* ---- SQLite ----------------------------------------------------------- */

/** SQLITE_TRANSIENT: a macro casting -1 to a function pointer. */
void *lts_sqlite_transient(void);

/* ---- curl ------------------------------------------------------------- */

/** Result of one blocking HTTP request made with libcurl. */
typedef struct lts_curl_result {
    long status;       /* HTTP status, 0 when no response */
    char *body;        /* malloc'd response body (free with lts_curl_result_free) */
    size_t body_len;
    char *headers;     /* malloc'd, NUL-terminated raw header lines of every response */
    char error[256];   /* curl's message when status == 0 */
} lts_curl_result_t;

/** One blocking request. `headers` is a list of "Name: value" lines
 *  separated by '\n' (or NULL). TLS trust as in lts_tls_client_ctx, with
 *  `pin_sha256` as a hex fingerprint. `timeout_ms` bounds the whole call,
 *  `connect_timeout_ms` the connection (TCP and TLS). Returns 0 when a
 *  response arrived. */
int lts_curl_request(const char *method, const char *url, const char *headers, const char *body, size_t body_len,
                     const char *ca_file, const char *pin_sha256_hex, int insecure, long timeout_ms,
                     long connect_timeout_ms, lts_curl_result_t *out);

void lts_curl_result_free(lts_curl_result_t *res);

/* ---- SMTP (curl) ------------------------------------------------------ */

/** Why one lts_smtp_send failed. */
typedef struct lts_smtp_result {
    long response_code;  /* the server's last SMTP reply code, 0 when none */
    char reply[256];     /* the server's last reply line without CRLF, "" when none */
    char error[256];     /* curl's message (CURLOPT_ERRORBUFFER, else curl_easy_strerror) */
} lts_smtp_result_t;

/** Sends one message, blocking; call it off the event loop.
 *  `url` is smtp://host:port or smtps://host:port (implicit TLS). With
 *  `require_tls` an smtp:// session must switch to TLS with STARTTLS before
 *  anything but EHLO is sent, or fail (CURLUSESSL_ALL: never opportunistic).
 *  TLS always verifies the peer and the host name, against `ca_file` when
 *  given, else the system CAs. `username`/`password` (both or neither) log in
 *  with AUTH. `recipients` holds `recipient_count` addresses for RCPT TO.
 *  `message` is the whole RFC 5322 message with CRLF line ends; libcurl
 *  dot-stuffs it and ends DATA. `timeout_ms` bounds the whole call,
 *  `connect_timeout_ms` the connection. Returns 0 when the server accepted
 *  the message, else the CURLcode, with `out` filled in. */
int lts_smtp_send(const char *url, int require_tls, const char *username, const char *password,
                  const char *mail_from, const char *const *recipients, size_t recipient_count,
                  const char *message, size_t message_len, const char *ca_file, long timeout_ms,
                  long connect_timeout_ms, lts_smtp_result_t *out);

#endif
