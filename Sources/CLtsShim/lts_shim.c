/* See include/lts_shim.h for why each function exists. */
#include "lts_shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* ---- HTTP server ------------------------------------------------------ */

typedef struct lts_handler {
    h2o_handler_t super;
    lts_request_cb cb;
    void *owner;
} lts_handler_t;

struct lts_http_server {
    h2o_globalconf_t config;
    h2o_context_t context;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    int listening;
    /* Accepted connections not yet closed: h2o's context may be disposed
     * only when none is left (its timeouts assert that no entry is linked). */
    size_t connections;
    /* Set by lts_http_server_free: dispose when the last connection closes. */
    int freeing;
    /* Closed twice when the server goes, so that every handle closed with
     * the context has finished closing before the memory is freed. */
    uv_idle_t reaper;
};

/* An accepted connection: the libuv handle (first, so h2o's close callback
 * can be given the handle) and the server it counts against. */
typedef struct lts_connection {
    uv_tcp_t tcp;
    lts_http_server_t *server;
} lts_connection_t;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    lts_handler_t *handler = (lts_handler_t *)self;
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
    h2o_context_init(&server->context, loop, &server->config);
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

static void dispose_server(lts_http_server_t *server)
{
    /* h2o's HTTP/2 shutdown request links this entry of the context and
     * never unlinks it; with no connection left it has nothing to do. */
    h2o_timeout_unlink(&server->context.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&server->context);
    h2o_config_dispose(&server->config);
    uv_idle_init(server->context.loop, &server->reaper);
    server->reaper.data = server;
    uv_close((uv_handle_t *)&server->reaper, close_reaper_again);
}

static void on_connection_closed(uv_handle_t *handle)
{
    lts_connection_t *conn = (lts_connection_t *)handle;
    lts_http_server_t *server = conn->server;
    free(conn);
    server->connections--;
    if (server->freeing && server->connections == 0)
        dispose_server(server);
}

static void on_connection(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    lts_http_server_t *server = listener->data;
    lts_connection_t *conn = malloc(sizeof(*conn));
    if (conn == NULL)
        return;
    conn->server = server;
    server->connections++;
    uv_tcp_init(listener->loop, &conn->tcp);
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        uv_close((uv_handle_t *)&conn->tcp, on_connection_closed);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_connection_closed);
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
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&server->listener, (struct sockaddr *)&bound, &len);
    if (bound.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    return ntohs(((struct sockaddr_in *)&bound)->sin_port);
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
    server->freeing = 1;
    if (server->connections == 0)
        dispose_server(server);
}

/* ---- Requests --------------------------------------------------------- */

h2o_iovec_t lts_req_header(h2o_req_t *req, const char *name)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (index == -1)
        return h2o_iovec_init(NULL, 0);
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
    req->res.status = 101;
    req->res.reason = reason_phrase(101);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, protocol, strlen(protocol));
    h2o_http1_upgrade(req, NULL, 0, on_upgrade_complete, hook);
    return 0;
}

/* ---- TLS -------------------------------------------------------------- */

static void set_error(char *err, size_t errlen, const char *what)
{
    unsigned long code = ERR_get_error();
    if (code != 0) {
        char detail[200];
        ERR_error_string_n(code, detail, sizeof(detail));
        snprintf(err, errlen, "%s: %s", what, detail);
    } else {
        snprintf(err, errlen, "%s", what);
    }
    ERR_clear_error();
}

/* Opens a key (or certificate) file, never through a symbolic link: a link
 * planted where the file belongs would make the node overwrite another file
 * when it generates its own, or serve with a key it was not given. */
static FILE *open_no_follow(const char *path, int flags, mode_t mode, const char *fmode)
{
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, fmode);
    if (fp == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return fp;
}

static int read_private_key(const char *key_path, EVP_PKEY **key, char *err, size_t errlen)
{
    FILE *fp = open_no_follow(key_path, O_RDONLY, 0, "r");
    if (fp == NULL && errno == ELOOP) {
        snprintf(err, errlen, "the TLS key is a symbolic link (give the file itself)");
        return -1;
    }
    if (fp == NULL) {
        snprintf(err, errlen, "cannot open the TLS key: %s", strerror(errno));
        return -1;
    }
    *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (*key == NULL) {
        set_error(err, errlen, "cannot read the TLS key");
        return -1;
    }
    return 0;
}

SSL_CTX *lts_tls_server_ctx(const char *cert_path, const char *key_path, int http2, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        set_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        set_error(err, errlen, "cannot load TLS certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    if (read_private_key(key_path, &key, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    int used = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        set_error(err, errlen, "cannot load TLS key (or it does not match the certificate)");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (http2)
        h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
}

static void free_pin(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static int pin_index = -1;
static pthread_once_t pin_index_once = PTHREAD_ONCE_INIT;

static void make_pin_index(void)
{
    pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_pin);
}

/* Registered once (pthread_once: curl clients on several threads may ask
 * first at the same time); OpenSSL keeps the index for the life of the
 * process. -1 when OpenSSL could not register it. */
static int pin_ex_index(void)
{
    pthread_once(&pin_index_once, make_pin_index);
    return pin_index;
}

/* Accepts the chain when its leaf certificate has the pinned SHA-256; the
 * pin replaces chain and name checks, as with SSH host keys. */
static int verify_pin(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    const unsigned char *pin = SSL_CTX_get_ex_data(ctx, pin_ex_index());
    if (X509_STORE_CTX_get_error_depth(store) != 0) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    unsigned char digest[32];
    unsigned int len = 0;
    X509 *leaf = X509_STORE_CTX_get_current_cert(store);
    if (pin == NULL || leaf == NULL || X509_digest(leaf, EVP_sha256(), digest, &len) != 1 || len != 32 ||
        CRYPTO_memcmp(digest, pin, 32) != 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

static int install_pin(SSL_CTX *ctx, const unsigned char *pin_sha256)
{
    int index = pin_ex_index();
    if (index < 0)
        return -1;
    unsigned char *pin = malloc(32);
    if (pin == NULL)
        return -1;
    memcpy(pin, pin_sha256, 32);
    if (SSL_CTX_set_ex_data(ctx, index, pin) != 1) {
        free(pin);
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_pin);
    return 0;
}

SSL_CTX *lts_tls_client_ctx(const char *ca_file, const unsigned char *pin_sha256, int insecure, char *err,
                            size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        set_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else if (pin_sha256 != NULL) {
        if (install_pin(ctx, pin_sha256) != 0) {
            set_error(err, errlen, "cannot install the certificate pin");
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else {
        int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            set_error(err, errlen, "cannot load CA certificates");
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

static int add_extension(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

int lts_tls_generate_self_signed(const char *cert_path, const char *key_path, const char *common_name,
                                 const char *sans, int days, char *err, size_t errlen)
{
    int result = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    FILE *fp = NULL;
    if (key == NULL || cert == NULL) {
        set_error(err, errlen, "cannot generate EC P-256 key");
        goto done;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        set_error(err, errlen, "cannot draw a random serial number");
        goto done;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    int serial_set = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(cert);
    if (!serial_set || X509_set_version(cert, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 24 * 3600) == NULL || X509_set_pubkey(cert, key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"lts", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name, -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1) {
        set_error(err, errlen, "cannot fill in the certificate (check the host names)");
        goto done;
    }
    if (add_extension(cert, NID_subject_alt_name, sans) != 0 ||
        add_extension(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") != 0 ||
        add_extension(cert, NID_ext_key_usage, "serverAuth") != 0 ||
        add_extension(cert, NID_subject_key_identifier, "hash") != 0) {
        set_error(err, errlen, "cannot add certificate extensions (check the host names)");
        goto done;
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
        set_error(err, errlen, "cannot sign certificate");
        goto done;
    }
    fp = open_no_follow(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600, "w");
    if (fp == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", key_path, strerror(errno));
        goto done;
    }
    int written = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
    int closed = fclose(fp) == 0;
    fp = NULL;
    if (!written || !closed) {
        snprintf(err, errlen, "cannot write %s", key_path);
        goto done;
    }
    fp = open_no_follow(cert_path, O_WRONLY | O_CREAT | O_TRUNC, 0644, "w");
    if (fp == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", cert_path, strerror(errno));
        goto done;
    }
    written = PEM_write_X509(fp, cert) == 1;
    closed = fclose(fp) == 0;
    fp = NULL;
    if (!written || !closed) {
        snprintf(err, errlen, "cannot write %s", cert_path);
        goto done;
    }
    result = 0;
done:
    if (fp != NULL)
        fclose(fp);
    EVP_PKEY_free(key);
    X509_free(cert);
    return result;
}

int lts_tls_cert_fingerprint(const char *cert_path, unsigned char out[32])
{
    FILE *fp = fopen(cert_path, "r");
    if (fp == NULL)
        return -1;
    X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL)
        return -1;
    unsigned int len = 0;
    int ok = X509_digest(cert, EVP_sha256(), out, &len);
    X509_free(cert);
    return ok == 1 && len == 32 ? 0 : -1;
}

/* ---- SQLite ----------------------------------------------------------- */

#include <sqlite3.h>

void *lts_sqlite_transient(void)
{
    return (void *)SQLITE_TRANSIENT;
}

/* ---- curl ------------------------------------------------------------- */

typedef struct lts_curl_buffer {
    char *data;
    size_t len;
    size_t max;
} lts_curl_buffer_t;

enum { lts_curl_response_bytes_max = 64 * 1024 * 1024, lts_curl_header_bytes_max = 256 * 1024 };

static size_t on_curl_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    lts_curl_buffer_t *buf = userdata;
    size_t n = size * nmemb;
    if (buf->len + n > buf->max)
        return 0;
    char *grown = realloc(buf->data, buf->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + buf->len, ptr, n);
    buf->data = grown;
    buf->len += n;
    buf->data[buf->len] = '\0';
    return n;
}

static int hex_to_bytes(const char *hex, unsigned char out[32])
{
    size_t j = 0;
    for (size_t i = 0; hex[i] != '\0' && j < 64; i++) {
        char c = hex[i];
        int v;
        if (c == ':')
            continue;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else return -1;
        if (j % 2 == 0) out[j / 2] = (unsigned char)(v << 4);
        else out[j / 2] |= (unsigned char)v;
        j++;
    }
    return j == 64 ? 0 : -1;
}

/* The '\n'-separated lines of `headers` as a curl list, with strtok_r:
 * threads share this client. 0, or -1 with nothing left allocated. */
static int header_list(const char *headers, struct curl_slist **out)
{
    char *copy = strdup(headers);
    if (copy == NULL)
        return -1;
    struct curl_slist *list = NULL;
    char *rest = NULL;
    for (char *line = strtok_r(copy, "\n", &rest); line != NULL; line = strtok_r(NULL, "\n", &rest)) {
        struct curl_slist *longer = curl_slist_append(list, line);
        if (longer == NULL) {
            curl_slist_free_all(list);
            free(copy);
            return -1;
        }
        list = longer;
    }
    free(copy);
    *out = list;
    return 0;
}

static CURLcode on_curl_ssl_ctx(CURL *curl, void *ssl_ctx, void *userptr)
{
    (void)curl;
    return install_pin((SSL_CTX *)ssl_ctx, userptr) == 0 ? CURLE_OK : CURLE_OUT_OF_MEMORY;
}

int lts_curl_request(const char *method, const char *url, const char *headers, const char *body, size_t body_len,
                     const char *ca_file, const char *pin_sha256_hex, int insecure, long timeout_ms,
                     long connect_timeout_ms, lts_curl_result_t *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char pin[32];
    if (pin_sha256_hex != NULL && hex_to_bytes(pin_sha256_hex, pin) != 0) {
        snprintf(out->error, sizeof(out->error), "the certificate fingerprint must be 64 hex digits");
        return -1;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(out->error, sizeof(out->error), "cannot start libcurl");
        return -1;
    }
    lts_curl_buffer_t buf = {NULL, 0, lts_curl_response_bytes_max};
    lts_curl_buffer_t head = {NULL, 0, lts_curl_header_bytes_max};
    struct curl_slist *list = NULL;
    if (headers != NULL && header_list(headers, &list) != 0) {
        snprintf(out->error, sizeof(out->error), "out of memory");
        curl_easy_cleanup(curl);
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_curl_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_curl_data);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &head);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (pin_sha256_hex != NULL) {
        /* The pin replaces chain and host name checks (see verify_pin), so
         * no CA store is loaded: libcurl would otherwise parse the whole
         * system bundle for every connection (a fresh handle each call),
         * milliseconds of CPU that capped a pinned load at a few dozen
         * requests a second. */
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_curl_ssl_ctx);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, pin);
    } else if (ca_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        out->body = buf.data;
        out->body_len = buf.len;
        out->headers = head.data;
    } else {
        snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
        free(buf.data);
        free(head.data);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? 0 : -1;
}

void lts_curl_result_free(lts_curl_result_t *res)
{
    free(res->body);
    free(res->headers);
    res->body = NULL;
    res->headers = NULL;
}

/* ---- SMTP (curl) ------------------------------------------------------ */

typedef struct lts_smtp_upload {
    const char *data;
    size_t len;
    size_t sent;
} lts_smtp_upload_t;

static size_t on_smtp_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
    lts_smtp_upload_t *upload = userdata;
    size_t n = upload->len - upload->sent;
    if (n > size * nitems)
        n = size * nitems;
    memcpy(buffer, upload->data + upload->sent, n);
    upload->sent += n;
    return n;
}

/* libcurl hands every SMTP reply line to the header callback. Only refusals
 * (4xx and 5xx) are kept: they say why a send failed, and a later 221 to QUIT
 * must not hide them. */
static size_t on_smtp_reply(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    lts_smtp_result_t *out = userdata;
    size_t n = size * nmemb;
    if (n < 3 || (ptr[0] != '4' && ptr[0] != '5'))
        return n;
    size_t keep = n;
    while (keep > 0 && (ptr[keep - 1] == '\r' || ptr[keep - 1] == '\n'))
        keep--;
    if (keep >= sizeof(out->reply))
        keep = sizeof(out->reply) - 1;
    memcpy(out->reply, ptr, keep);
    out->reply[keep] = '\0';
    return n;
}

int lts_smtp_send(const char *url, int require_tls, const char *username, const char *password,
                  const char *mail_from, const char *const *recipients, size_t recipient_count,
                  const char *message, size_t message_len, const char *ca_file, long timeout_ms,
                  long connect_timeout_ms, lts_smtp_result_t *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(out->error, sizeof(out->error), "cannot start libcurl");
        return CURLE_FAILED_INIT;
    }
    char error[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < recipient_count; i++) {
        struct curl_slist *longer = curl_slist_append(rcpt, recipients[i]);
        if (longer == NULL) {
            curl_slist_free_all(rcpt);
            curl_easy_cleanup(curl);
            snprintf(out->error, sizeof(out->error), "out of memory");
            return CURLE_OUT_OF_MEMORY;
        }
        rcpt = longer;
    }
    lts_smtp_upload_t upload = {message, message_len, 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_USE_SSL, require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    if (username != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message_len);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_smtp_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_smtp_reply);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->response_code);
        snprintf(out->error, sizeof(out->error), "%s", error[0] != '\0' ? error : curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    return (int)rc;
}
