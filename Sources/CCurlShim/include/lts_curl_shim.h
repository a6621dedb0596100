/*
 * lts_curl_shim: libcurl glue: blocking HTTP requests (with a certificate pin
 * through CTLSShim) and SMTP mail. C because curl_easy_setopt is variadic.
 * The client is shared by threads (load generators, LicenseClient): every
 * function may be called from any thread and keeps no state between calls.
 */
#ifndef LTS_CURL_SHIM_H
#define LTS_CURL_SHIM_H

#include <stddef.h>

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
