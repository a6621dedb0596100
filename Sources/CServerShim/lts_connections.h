/*
 * lts_connections: the accepted connections of one server, with the caps of
 * lts_connection_limits_t, and a sweep (every LTS_SWEEP_MS) that aborts
 * uploads over their route's limit and closes connections libh2o 2.2.5
 * would otherwise keep forever. Loop thread only.
 */
#ifndef LTS_CONNECTIONS_H
#define LTS_CONNECTIONS_H

#include "lts_server_shim.h"

#define LTS_ADDRESS_BUCKETS 256
#define LTS_SWEEP_MS 100

typedef struct lts_connection lts_connection_t;
typedef struct lts_address_slot lts_address_slot_t;

/** Invariant: `open` counts accepted connections whose handle has not
 *  finished closing; `live` those of them not being closed by a limit;
 *  `fresh` the live ones that have not sent a request; each address slot
 *  counts the same for its address and exists while it counts any. */
typedef struct lts_connection_table {
    uv_loop_t *loop;
    lts_connection_limits_t limits;
    void *owner;
    lts_limit_cb on_limit;
    lts_body_limit_cb body_limit;
    /* Open connections, least recently active first. */
    lts_connection_t *least_active;
    lts_connection_t *most_active;
    lts_connection_t **by_fd;
    size_t by_fd_len;
    lts_address_slot_t *buckets[LTS_ADDRESS_BUCKETS];
    size_t open;
    size_t live;
    size_t fresh;
    /* Connections closed to make room whose descriptors h2o has not yet
     * given back. */
    size_t closing;
    /* The listener while accepting waits for `closing` to drop: libuv
     * holds its next connection and watches it no more until then. */
    uv_stream_t *paused;
    uint64_t events[LTS_LIMIT_EVENT_COUNT];
    uv_timer_t sweeper;
    int sweeping;
    /* Called when `open` drops to 0 while `notify_empty` is set. */
    void (*on_empty)(void *data);
    void *on_empty_data;
    int notify_empty;
} lts_connection_table_t;

void lts_connections_init(lts_connection_table_t *table, uv_loop_t *loop);

/** Accepts the next connection of `listener` and applies the caps (closing
 *  others to make room, or refusing this one). Returns its h2o socket, or
 *  NULL when refused, failed (nothing left open) or put off: while too many
 *  connections closed to make room still hold their descriptors, the
 *  connection waits in libuv and the listener's callback runs again once
 *  they are given back. */
h2o_socket_t *lts_connections_accept(lts_connection_table_t *table, uv_stream_t *listener);

/** Counts `req` against its connection until h2o frees it. */
void lts_connections_request_started(lts_connection_table_t *table, h2o_req_t *req);

/** Marks the connection of `req` as handed off (an upgrade): never idle. */
void lts_connections_upgraded(lts_connection_table_t *table, h2o_req_t *req);

/** Starts the sweep timer (once). */
void lts_connections_start_sweeping(lts_connection_table_t *table);

/** Closes the sweep timer; its close completes in a later loop pass. */
void lts_connections_stop_sweeping(lts_connection_table_t *table);

/** Frees the table's index, once no connection is open. */
void lts_connections_dispose(lts_connection_table_t *table);

#endif
