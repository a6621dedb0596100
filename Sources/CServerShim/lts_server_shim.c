#include "lts_server_shim.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lts_connections.h"
#include "lts_request_head.h"
#include "lts_tls_shim.h"

/* ---- HTTP server ------------------------------------------------------ */

typedef struct lts_handler {
    h2o_handler_t super;
    lts_request_cb cb;
    void *owner;
    lts_connection_table_t *connections;
} lts_handler_t;

struct lts_http_server {
    h2o_globalconf_t config;
    h2o_context_t context;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    int listening;
    /* Accepted connections: h2o's context may be disposed only when none
     * is left (its timeouts assert that no entry is linked). */
    lts_connection_table_t connections;
    /* Closed twice when the server goes, so that every handle closed with
     * the context has finished closing before the memory is freed. */
    uv_idle_t reaper;
};

/* An HTTP/1 request whose length two parties could read two ways is how
 * requests are smuggled past a proxy. h2o keeps neither header in
 * req->headers (it takes the first Content-Length, or the Transfer-Encoding),
 * so the head is read again where h2o parsed it: at the start of the
 * socket's input, which h2o consumes only once the request is done. */
static int is_ambiguous_framing(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return 0;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return 0;
    /* This request's head starts the buffer (its method first). */
    if (sock->input->size < req->input.method.len ||
        memcmp(sock->input->bytes, req->input.method.base, req->input.method.len) != 0)
        return 0;
    lts_request_head_t head;
    return lts_request_head_read(sock->input->bytes, sock->input->size, &head) == 1 && lts_request_head_is_ambiguous(&head);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    lts_handler_t *handler = (lts_handler_t *)self;
    if (is_ambiguous_framing(req)) {
        static const char body[] = "{\"code\":-20001,\"message\":\"The request's length is ambiguous (two Content-Length or Transfer-Encoding headers, or one of each); the connection is closed.\"}";
        req->http1_is_persistent = 0;
        req->res.status = 400;
        req->res.reason = "Bad Request";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONNECTION, NULL, H2O_STRLIT("close"));
        h2o_send_inline(req, body, sizeof(body) - 1);
        return 0;
    }
    lts_connections_request_started(handler->connections, req);
    handler->cb(handler->owner, req);
    return 0;
}

lts_http_server_t *lts_http_server_new(uv_loop_t *loop, SSL_CTX *ssl_ctx, int http2, size_t max_body_bytes,
                                       uint64_t idle_timeout_ms, lts_request_cb cb, void *owner)
{
    lts_http_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return NULL;
    h2o_config_init(&server->config);
    server->config.server_name = h2o_iovec_init(H2O_STRLIT("lts"));
    server->config.max_request_entity_size = max_body_bytes;
    server->config.http1.upgrade_to_http2 = http2 ? 1 : 0;
    server->config.http1.req_timeout = idle_timeout_ms;
    server->config.http2.idle_timeout = idle_timeout_ms;
    h2o_hostconf_t *host = h2o_config_register_host(&server->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    lts_handler_t *handler = (lts_handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->cb = cb;
    handler->owner = owner;
    handler->connections = &server->connections;
    h2o_context_init(&server->context, loop, &server->config);
    lts_connections_init(&server->connections, loop);
    server->connections.owner = owner;
    server->accept_ctx.ctx = &server->context;
    server->accept_ctx.hosts = server->config.hosts;
    server->accept_ctx.ssl_ctx = ssl_ctx;
    return server;
}

static void free_after_second_close(uv_handle_t *reaper)
{
    free(reaper->data);
}

static void close_reaper_again(uv_handle_t *reaper)
{
    /* Handles closed in the same pass as the reaper may finish after it;
     * a second close lands in the next pass, after all of them. */
    uv_idle_init(reaper->loop, (uv_idle_t *)reaper);
    uv_close(reaper, free_after_second_close);
}

static void dispose_server(void *data)
{
    lts_http_server_t *server = data;
    /* h2o's HTTP/2 shutdown request links this entry of the context and
     * never unlinks it; with no connection left it has nothing to do. */
    h2o_timeout_unlink(&server->context.http2._graceful_shutdown_timeout);
    lts_connections_stop_sweeping(&server->connections);
    h2o_context_dispose(&server->context);
    h2o_config_dispose(&server->config);
    lts_connections_dispose(&server->connections);
    uv_idle_init(server->context.loop, &server->reaper);
    server->reaper.data = server;
    uv_close((uv_handle_t *)&server->reaper, close_reaper_again);
}

static void on_connection(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    lts_http_server_t *server = listener->data;
    h2o_socket_t *sock = lts_connections_accept(&server->connections, listener);
    if (sock != NULL)
        h2o_accept(&server->accept_ctx, sock);
}

int lts_http_server_listen(lts_http_server_t *server, const char *host, int port)
{
    struct sockaddr_storage addr;
    int r;
    if (strchr(host, ':') != NULL)
        r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    else
        r = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (r != 0)
        return r;
    uv_tcp_init(server->context.loop, &server->listener);
    server->listener.data = server;
    if ((r = uv_tcp_bind(&server->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&server->listener, 1024, on_connection)) != 0) {
        uv_close((uv_handle_t *)&server->listener, NULL);
        return r;
    }
    server->listening = 1;
    lts_connections_start_sweeping(&server->connections);
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&server->listener, (struct sockaddr *)&bound, &len);
    if (bound.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    return ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

void lts_http_server_set_ssl_ctx(lts_http_server_t *server, SSL_CTX *ssl_ctx)
{
    server->accept_ctx.ssl_ctx = ssl_ctx;
}

void lts_http_server_stop_accepting(lts_http_server_t *server)
{
    if (server->listening) {
        server->listening = 0;
        uv_close((uv_handle_t *)&server->listener, NULL);
    }
    h2o_context_request_shutdown(&server->context);
}

void lts_http_server_free(lts_http_server_t *server)
{
    if (server->listening || !server->context.shutdown_requested)
        lts_http_server_stop_accepting(server);
    server->connections.on_empty = dispose_server;
    server->connections.on_empty_data = server;
    server->connections.notify_empty = 1;
    if (server->connections.open == 0)
        dispose_server(server);
}

/* ---- Connection limits ------------------------------------------------ */

void lts_http_server_set_limits(lts_http_server_t *server, const lts_connection_limits_t *limits, lts_limit_cb on_limit,
                                lts_body_limit_cb body_limit)
{
    server->connections.limits = *limits;
    server->connections.on_limit = on_limit;
    server->connections.body_limit = body_limit;
}

void lts_http_server_stats(lts_http_server_t *server, lts_connection_stats_t *stats)
{
    stats->open = server->connections.live;
    stats->fresh = server->connections.fresh;
    memcpy(stats->events, server->connections.events, sizeof(stats->events));
}

/* ---- Requests --------------------------------------------------------- */

h2o_iovec_t lts_req_header(h2o_req_t *req, const char *name)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (index == -1)
        return h2o_iovec_init(NULL, 0);
    return req->headers.entries[index].value;
}

h2o_iovec_t lts_req_header_next(h2o_req_t *req, const char *name, ssize_t *cursor)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, name, strlen(name), *cursor);
    if (index == -1)
        return h2o_iovec_init(NULL, 0);
    *cursor = index;
    return req->headers.entries[index].value;
}

void lts_req_peer_address(h2o_req_t *req, char *buf, size_t buflen)
{
    struct sockaddr_storage sa;
    buf[0] = '\0';
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&sa);
    if (len == 0)
        return;
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, buf, buflen);
    else if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, buf, buflen);
}

void lts_req_add_header(h2o_req_t *req, const char *name, size_t name_len, const char *value, size_t value_len)
{
    h2o_iovec_t n = h2o_strdup(&req->pool, name, name_len);
    h2o_iovec_t v = h2o_strdup(&req->pool, value, value_len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void lts_req_send(h2o_req_t *req, int status, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

typedef struct lts_dispose_hook {
    void *obj;
    lts_dispose_cb cb;
} lts_dispose_hook_t;

static void run_dispose_hook(void *p)
{
    lts_dispose_hook_t *hook = p;
    hook->cb(hook->obj);
}

void lts_req_on_dispose(h2o_req_t *req, void *obj, lts_dispose_cb cb)
{
    lts_dispose_hook_t *hook = h2o_mem_alloc_shared(&req->pool, sizeof(*hook), run_dispose_hook);
    hook->obj = obj;
    hook->cb = cb;
}

int lts_req_wants_upgrade(h2o_req_t *req, const char *protocol)
{
    if (req->version != 0x101 || req->upgrade.base == NULL)
        return 0;
    size_t len = strlen(protocol);
    return req->upgrade.len == len && strncasecmp(req->upgrade.base, protocol, len) == 0;
}

typedef struct lts_upgrade_hook {
    void *obj;
    lts_upgrade_cb cb;
} lts_upgrade_hook_t;

static void on_upgrade_complete(void *user_data, h2o_socket_t *sock, size_t reqsize)
{
    lts_upgrade_hook_t hook = *(lts_upgrade_hook_t *)user_data;
    free(user_data);
    if (sock != NULL)
        h2o_buffer_consume(&sock->input, reqsize);
    hook.cb(hook.obj, sock);
}

int lts_req_upgrade(h2o_req_t *req, const char *protocol, void *obj, lts_upgrade_cb cb)
{
    lts_upgrade_hook_t *hook = malloc(sizeof(*hook));
    if (hook == NULL)
        return -1;
    hook->obj = obj;
    hook->cb = cb;
    /* The one handler of the one path: the server's. */
    lts_handler_t *handler = (lts_handler_t *)req->pathconf->handlers.entries[0];
    lts_connections_upgraded(handler->connections, req);
    req->res.status = 101;
    req->res.reason = reason_phrase(101);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, protocol, strlen(protocol));
    h2o_http1_upgrade(req, NULL, 0, on_upgrade_complete, hook);
    return 0;
}

/* ---- TLS -------------------------------------------------------------- */

SSL_CTX *lts_tls_server_ctx(const char *cert_path, const char *key_path, int http2, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        lts_tls_set_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    /* TLS 1.2 with forward secrecy and AEAD only (TLS 1.3's suites are all
     * AEAD): no CBC, no static RSA key exchange. */
    if (SSL_CTX_set_cipher_list(ctx, LTS_TLS12_CIPHERS) != 1) {
        lts_tls_set_error(err, errlen, "cannot set the TLS 1.2 cipher suites");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        lts_tls_set_error(err, errlen, "cannot load TLS certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    if (lts_tls_read_private_key(key_path, &key, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    int used = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        lts_tls_set_error(err, errlen, "cannot load TLS key (or it does not match the certificate)");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (http2)
        h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
}
