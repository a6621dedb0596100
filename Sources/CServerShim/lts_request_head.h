/*
 * lts_request_head: what lts needs to know of an HTTP/1 request head still
 * in a connection's input buffer, read without h2o (which keeps neither
 * duplicate framing headers nor the head before the body has arrived).
 */
#ifndef LTS_REQUEST_HEAD_H
#define LTS_REQUEST_HEAD_H

#include <stddef.h>
#include <stdint.h>

/** The framing of one request head. */
typedef struct lts_request_head {
    const char *method;
    size_t method_len;
    /** The request target up to (not including) any '?'. */
    const char *path;
    size_t path_len;
    /** Bytes of the head, the blank line included. */
    size_t head_len;
    size_t content_lengths;
    size_t transfer_encodings;
    /** The largest Content-Length given (UINT64_MAX when one is not a number). */
    uint64_t content_length;
} lts_request_head_t;

/** Reads the head at the start of `bytes`. Returns 1 when a whole head
 *  (request line, headers, blank line) is there, 0 when more bytes are
 *  needed, -1 when the bytes are not an HTTP/1 request line. */
int lts_request_head_read(const char *bytes, size_t size, lts_request_head_t *head);

/** Whether two parties could read the body's length two ways: two
 *  Content-Length or Transfer-Encoding headers, or one of each. */
int lts_request_head_is_ambiguous(const lts_request_head_t *head);

#endif
