#include "lts_connections.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lts_request_head.h"

/* Buffered input below this is not worth reading for its route's limit
 * (every route takes at least this much). */
#define LTS_BODY_CHECK_BYTES 4096
/* Head bytes read for a route's limit: h2o refuses longer heads. */
#define LTS_HEAD_BYTES_MAX 65536
/* Sweeps a connection must look stuck in before it is unstuck: a write
 * libuv completed is reported within one loop pass, far less than this. */
#define LTS_STUCK_SWEEPS 2
/* Connections unstuck per sweep at most (the rest wait for the next). */
#define LTS_STUCK_PER_SWEEP 64
/* Connections closed to make room that may still hold their descriptors
 * before accepting waits for them: a burst of accepts in one loop pass
 * would otherwise run out of descriptors (and libuv then drops every
 * connection still waiting, a client's among them) before h2o has closed
 * any. Well inside ConnectionLimits.reservedDescriptorsMin. */
#define LTS_CLOSING_MAX 16

struct lts_address_slot {
    lts_address_slot_t *next;
    /* Address family, then the address (IPv4 in the first 4 bytes). */
    unsigned char key[17];
    char text[INET6_ADDRSTRLEN];
    /* Open connections pointing here (the slot goes with the last). */
    size_t refs;
    size_t live;
    size_t fresh;
};

/* An accepted connection. `tcp` comes first: libuv and h2o hand back the
 * handle, and its `data` is h2o's socket for the whole life of the handle. */
struct lts_connection {
    uv_tcp_t tcp;
    lts_connection_table_t *table;
    lts_connection_t *less_active;
    lts_connection_t *more_active;
    lts_address_slot_t *address;
    int fd;
    /* Requests h2o has handed over and not yet freed; the memory stays
     * until both this is 0 and the handle has closed. */
    unsigned in_flight;
    /* Counted in live (and, while fresh, in fresh). */
    unsigned char counted;
    unsigned char fresh;
    unsigned char upgraded;
    unsigned char http2;
    unsigned char closed;
    /* Shut by a limit: counted in the table's `closing` until closed. */
    unsigned char shut;
    unsigned char stuck_sweeps;
    unsigned resets;
    uint64_t resets_since_ms;
};

typedef struct lts_request_hook {
    lts_connection_t *conn;
    h2o_req_t *req;
} lts_request_hook_t;

void lts_connections_init(lts_connection_table_t *table, uv_loop_t *loop)
{
    memset(table, 0, sizeof(*table));
    table->loop = loop;
}

/* ---- Address slots ----------------------------------------------------- */

static size_t bucket_of(const unsigned char *key)
{
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < 17; i++)
        hash = (hash ^ key[i]) * 16777619u;
    return hash % LTS_ADDRESS_BUCKETS;
}

static lts_address_slot_t *slot_for(lts_connection_table_t *table, const struct sockaddr_storage *addr)
{
    unsigned char key[17] = {0};
    key[0] = (unsigned char)addr->ss_family;
    if (addr->ss_family == AF_INET)
        memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    else if (addr->ss_family == AF_INET6)
        memcpy(key + 1, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
    size_t bucket = bucket_of(key);
    for (lts_address_slot_t *slot = table->buckets[bucket]; slot != NULL; slot = slot->next)
        if (memcmp(slot->key, key, sizeof(key)) == 0)
            return slot;
    lts_address_slot_t *slot = calloc(1, sizeof(*slot));
    if (slot == NULL)
        return NULL;
    memcpy(slot->key, key, sizeof(key));
    if (addr->ss_family == AF_INET)
        inet_ntop(AF_INET, key + 1, slot->text, sizeof(slot->text));
    else if (addr->ss_family == AF_INET6)
        inet_ntop(AF_INET6, key + 1, slot->text, sizeof(slot->text));
    slot->next = table->buckets[bucket];
    table->buckets[bucket] = slot;
    return slot;
}

static void slot_forget_if_unused(lts_connection_table_t *table, lts_address_slot_t *slot)
{
    if (slot->refs != 0)
        return;
    lts_address_slot_t **link = &table->buckets[bucket_of(slot->key)];
    while (*link != slot)
        link = &(*link)->next;
    *link = slot->next;
    free(slot);
}

/* ---- The activity list and the fd index -------------------------------- */

static void unlink_activity(lts_connection_table_t *table, lts_connection_t *conn)
{
    if (conn->less_active != NULL)
        conn->less_active->more_active = conn->more_active;
    else
        table->least_active = conn->more_active;
    if (conn->more_active != NULL)
        conn->more_active->less_active = conn->less_active;
    else
        table->most_active = conn->less_active;
    conn->less_active = conn->more_active = NULL;
}

static void append_activity(lts_connection_table_t *table, lts_connection_t *conn)
{
    conn->less_active = table->most_active;
    conn->more_active = NULL;
    if (table->most_active != NULL)
        table->most_active->more_active = conn;
    else
        table->least_active = conn;
    table->most_active = conn;
}

static void touch(lts_connection_table_t *table, lts_connection_t *conn)
{
    unlink_activity(table, conn);
    append_activity(table, conn);
}

static int index_fd(lts_connection_table_t *table, lts_connection_t *conn)
{
    if ((size_t)conn->fd >= table->by_fd_len) {
        size_t len = table->by_fd_len == 0 ? 1024 : table->by_fd_len;
        while (len <= (size_t)conn->fd)
            len *= 2;
        lts_connection_t **grown = realloc(table->by_fd, len * sizeof(*grown));
        if (grown == NULL)
            return -1;
        memset(grown + table->by_fd_len, 0, (len - table->by_fd_len) * sizeof(*grown));
        table->by_fd = grown;
        table->by_fd_len = len;
    }
    table->by_fd[conn->fd] = conn;
    return 0;
}

/* ---- Counting and closing ---------------------------------------------- */

static void report(lts_connection_table_t *table, lts_limit_event_t event, const char *address)
{
    table->events[event]++;
    if (table->on_limit != NULL)
        table->on_limit(table->owner, (int)event, address);
}

static void end_fresh(lts_connection_table_t *table, lts_connection_t *conn)
{
    if (!conn->fresh)
        return;
    conn->fresh = 0;
    if (conn->counted) {
        table->fresh--;
        conn->address->fresh--;
    }
}

static void uncount(lts_connection_table_t *table, lts_connection_t *conn)
{
    end_fresh(table, conn);
    if (!conn->counted)
        return;
    conn->counted = 0;
    table->live--;
    conn->address->live--;
}

/* Closes a connection through h2o's own paths: both directions of the
 * socket are shut, so h2o's next read ends and h2o closes it (a TLS
 * handshake fails, an idle HTTP/1 or HTTP/2 connection ends). */
static void close_by_limit(lts_connection_table_t *table, lts_connection_t *conn, lts_limit_event_t event)
{
    if (!conn->counted)
        return;
    uncount(table, conn);
    /* A handle h2o is closing has given its fd back already (a new
     * connection may hold the same number): it needs nothing more. */
    if (uv_is_closing((uv_handle_t *)&conn->tcp))
        return;
    shutdown(conn->fd, SHUT_RDWR);
    conn->shut = 1;
    table->closing++;
    report(table, event, conn->address->text);
}

static void free_if_done(lts_connection_t *conn)
{
    if (conn->closed && conn->in_flight == 0)
        free(conn);
}

static void on_empty_check(lts_connection_table_t *table)
{
    if (table->open == 0 && table->notify_empty && table->on_empty != NULL)
        table->on_empty(table->on_empty_data);
}

/* Accepts again once the connections closed to make room have given
 * enough descriptors back. */
static void resume_accepting(lts_connection_table_t *table)
{
    uv_stream_t *listener = table->paused;
    if (listener == NULL || table->closing >= LTS_CLOSING_MAX)
        return;
    table->paused = NULL;
    if (!uv_is_closing((uv_handle_t *)listener))
        listener->connection_cb(listener, 0);
}

static void on_closed(uv_handle_t *handle)
{
    lts_connection_t *conn = (lts_connection_t *)handle;
    lts_connection_table_t *table = conn->table;
    if (conn->shut) {
        conn->shut = 0;
        table->closing--;
    }
    uncount(table, conn);
    unlink_activity(table, conn);
    if ((size_t)conn->fd < table->by_fd_len && table->by_fd[conn->fd] == conn)
        table->by_fd[conn->fd] = NULL;
    conn->address->refs--;
    slot_forget_if_unused(table, conn->address);
    conn->closed = 1;
    table->open--;
    free_if_done(conn);
    resume_accepting(table);
    on_empty_check(table);
}

/* Closes a connection that was never handed to h2o. */
static void on_refused_closed(uv_handle_t *handle)
{
    lts_connection_t *conn = (lts_connection_t *)handle;
    lts_connection_table_t *table = conn->table;
    free(conn);
    table->open--;
    on_empty_check(table);
}

/* The connection to close to make room: among those that may be closed
 * (idle, and fresh when `fresh_only`), one from the address holding the most
 * such connections, the least recently active of its address. A flood from a
 * few addresses so closes its own connections, not a client's from another
 * address that arrived in the middle of it. */
static lts_connection_t *eviction_victim(lts_connection_table_t *table, int fresh_only)
{
    lts_connection_t *victim = NULL;
    size_t victim_share = 0;
    for (lts_connection_t *conn = table->least_active; conn != NULL; conn = conn->more_active) {
        if (!conn->counted || conn->in_flight != 0 || conn->upgraded || (fresh_only && !conn->fresh) ||
            uv_is_closing((uv_handle_t *)&conn->tcp))
            continue;
        size_t share = fresh_only ? conn->address->fresh : conn->address->live;
        if (victim == NULL || share > victim_share) {
            victim = conn;
            victim_share = share;
        }
    }
    return victim;
}

/* Makes room for one more connection of `slot`. Returns the event that
 * refuses it, or -1 when it may come in. */
static int make_room(lts_connection_table_t *table, lts_address_slot_t *slot)
{
    const lts_connection_limits_t *limits = &table->limits;
    if (limits->per_address != 0 && slot->live >= limits->per_address)
        return LTS_LIMIT_PER_ADDRESS_REFUSED;
    if (limits->fresh_per_address != 0 && slot->fresh >= limits->fresh_per_address)
        return LTS_LIMIT_FRESH_PER_ADDRESS_REFUSED;
    while (limits->total != 0 && table->live >= limits->total) {
        lts_connection_t *idle = eviction_victim(table, 0);
        if (idle == NULL)
            return LTS_LIMIT_TOTAL_REFUSED;
        close_by_limit(table, idle, LTS_LIMIT_IDLE_EVICTED);
    }
    while (limits->fresh != 0 && table->fresh >= limits->fresh) {
        lts_connection_t *fresh = eviction_victim(table, 1);
        if (fresh == NULL)
            break;
        close_by_limit(table, fresh, LTS_LIMIT_FRESH_EVICTED);
    }
    return -1;
}

h2o_socket_t *lts_connections_accept(lts_connection_table_t *table, uv_stream_t *listener)
{
    if (table->closing >= LTS_CLOSING_MAX) {
        table->paused = listener;
        return NULL;
    }
    lts_connection_t *conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return NULL;
    conn->table = table;
    table->open++;
    uv_tcp_init(table->loop, &conn->tcp);
    struct sockaddr_storage peer;
    int peer_len = sizeof(peer);
    uv_os_fd_t fd;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0 ||
        uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&peer, &peer_len) != 0 ||
        uv_fileno((uv_handle_t *)&conn->tcp, &fd) != 0 || (conn->address = slot_for(table, &peer)) == NULL) {
        uv_close((uv_handle_t *)&conn->tcp, on_refused_closed);
        return NULL;
    }
    conn->fd = fd;
    int refusal = make_room(table, conn->address);
    if (refusal >= 0 || index_fd(table, conn) != 0) {
        if (refusal >= 0)
            report(table, (lts_limit_event_t)refusal, conn->address->text);
        slot_forget_if_unused(table, conn->address);
        uv_close((uv_handle_t *)&conn->tcp, on_refused_closed);
        return NULL;
    }
    conn->address->refs++;
    conn->counted = 1;
    conn->fresh = 1;
    conn->address->live++;
    conn->address->fresh++;
    table->live++;
    table->fresh++;
    append_activity(table, conn);
    uv_tcp_nodelay(&conn->tcp, 1);
    return h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_closed);
}

/* ---- Requests ---------------------------------------------------------- */

static lts_connection_t *connection_of(lts_connection_table_t *table, h2o_req_t *req)
{
    if (req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL)
        return NULL;
    int fd = h2o_socket_get_fd(sock);
    if (fd < 0 || (size_t)fd >= table->by_fd_len)
        return NULL;
    lts_connection_t *conn = table->by_fd[fd];
    return conn != NULL && conn->tcp.data == sock ? conn : NULL;
}

static void count_reset(lts_connection_table_t *table, lts_connection_t *conn)
{
    if (table->limits.resets_per_second == 0)
        return;
    uint64_t now = uv_now(table->loop);
    if (now - conn->resets_since_ms >= 1000) {
        conn->resets_since_ms = now;
        conn->resets = 0;
    }
    if (++conn->resets > table->limits.resets_per_second)
        close_by_limit(table, conn, LTS_LIMIT_RESETS_CLOSED);
}

static void on_request_freed(void *p)
{
    lts_request_hook_t *hook = p;
    lts_connection_t *conn = hook->conn;
    conn->in_flight--;
    if (conn->closed) {
        free_if_done(conn);
        return;
    }
    touch(conn->table, conn);
    /* An HTTP/2 stream freed with no answer started was reset (or its
     * connection went). */
    if (conn->http2 && hook->req->res.status == 0)
        count_reset(conn->table, conn);
}

void lts_connections_request_started(lts_connection_table_t *table, h2o_req_t *req)
{
    lts_connection_t *conn = connection_of(table, req);
    if (conn == NULL)
        return;
    lts_request_hook_t *hook = h2o_mem_alloc_shared(&req->pool, sizeof(*hook), on_request_freed);
    hook->conn = conn;
    hook->req = req;
    conn->in_flight++;
    if (req->version >= 0x200)
        conn->http2 = 1;
    end_fresh(table, conn);
    touch(table, conn);
}

void lts_connections_upgraded(lts_connection_table_t *table, h2o_req_t *req)
{
    lts_connection_t *conn = connection_of(table, req);
    if (conn != NULL)
        conn->upgraded = 1;
}

/* ---- The sweep --------------------------------------------------------- */

/* libh2o 2.2.5 on libuv loses a connection whose peer resets it: libuv
 * marks a stream neither readable nor writable after a read error, h2o
 * then closes the connection by writing a TLS close_notify, uv_write
 * refuses it at once (UV_EPIPE) and h2o, which ignores that return value,
 * waits forever for the write's callback. Its fd and buffers stay (about
 * 1 MiB after an aborted upload). A connection in that state (h2o waiting
 * on a write, libuv holding none, the stream dead both ways) over two
 * sweeps gets the callback h2o waits for, with an I/O error, as libuv
 * would have given it: h2o then frees the socket. */
static int looks_stuck(lts_connection_t *conn)
{
    uv_stream_t *stream = (uv_stream_t *)&conn->tcp;
    h2o_socket_t *sock = conn->tcp.data;
    return !uv_is_closing((uv_handle_t *)stream) && !uv_is_readable(stream) && !uv_is_writable(stream) &&
           sock != NULL && sock->_cb.write != NULL && stream->write_queue_size == 0;
}

static void unstick(lts_connection_t *conn)
{
    h2o_socket_t *sock = conn->tcp.data;
    h2o_socket_cb cb = sock->_cb.write;
    sock->_cb.write = NULL;
    cb(sock, h2o_socket_error_io);
}

/* Whether an HTTP/1 upload still coming in is over its route's limit, read
 * from the head h2o keeps at the start of the input until the body is all
 * there (h2o itself only knows the global limit). */
static int upload_over_limit(lts_connection_table_t *table, lts_connection_t *conn)
{
    if (table->body_limit == NULL || !conn->counted || conn->upgraded || conn->http2 || conn->in_flight != 0 ||
        uv_is_closing((uv_handle_t *)&conn->tcp))
        return 0;
    h2o_socket_t *sock = conn->tcp.data;
    if (sock == NULL || sock->input == NULL || sock->input->size < LTS_BODY_CHECK_BYTES)
        return 0;
    size_t size = sock->input->size;
    lts_request_head_t head;
    if (lts_request_head_read(sock->input->bytes, size < LTS_HEAD_BYTES_MAX ? size : LTS_HEAD_BYTES_MAX, &head) != 1)
        return 0;
    size_t limit = table->body_limit(table->owner, head.method, head.method_len, head.path, head.path_len);
    return head.content_length > limit || size - head.head_len > limit;
}

static void sweep(uv_timer_t *timer)
{
    lts_connection_table_t *table = timer->data;
    lts_connection_t *stuck[LTS_STUCK_PER_SWEEP];
    size_t stuck_count = 0;
    for (lts_connection_t *conn = table->least_active; conn != NULL; conn = conn->more_active) {
        if (!looks_stuck(conn)) {
            conn->stuck_sweeps = 0;
        } else if (++conn->stuck_sweeps >= LTS_STUCK_SWEEPS && stuck_count < LTS_STUCK_PER_SWEEP) {
            stuck[stuck_count++] = conn;
        }
        if (upload_over_limit(table, conn))
            close_by_limit(table, conn, LTS_LIMIT_BODY_ABORTED);
    }
    /* After the walk: h2o's callbacks may reorder the list (handles only
     * close in a later loop pass, so every entry stays valid). */
    for (size_t i = 0; i < stuck_count; i++) {
        if (!looks_stuck(stuck[i]))
            continue;
        stuck[i]->stuck_sweeps = 0;
        report(table, LTS_LIMIT_STUCK_CLOSED, stuck[i]->address->text);
        unstick(stuck[i]);
    }
}

void lts_connections_start_sweeping(lts_connection_table_t *table)
{
    if (table->sweeping)
        return;
    table->sweeping = 1;
    uv_timer_init(table->loop, &table->sweeper);
    table->sweeper.data = table;
    uv_timer_start(&table->sweeper, sweep, LTS_SWEEP_MS, LTS_SWEEP_MS);
}

void lts_connections_stop_sweeping(lts_connection_table_t *table)
{
    if (!table->sweeping)
        return;
    table->sweeping = 0;
    uv_close((uv_handle_t *)&table->sweeper, NULL);
}

void lts_connections_dispose(lts_connection_table_t *table)
{
    free(table->by_fd);
    table->by_fd = NULL;
    table->by_fd_len = 0;
}
