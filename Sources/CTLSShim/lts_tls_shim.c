#include "lts_tls_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* ---- TLS -------------------------------------------------------------- */

void lts_tls_set_error(char *err, size_t errlen, const char *what)
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

int lts_tls_read_private_key(const char *key_path, EVP_PKEY **key, char *err, size_t errlen)
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
        lts_tls_set_error(err, errlen, "cannot read the TLS key");
        return -1;
    }
    return 0;
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

int lts_tls_install_pin(SSL_CTX *ctx, const unsigned char *pin_sha256)
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
        lts_tls_set_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else if (pin_sha256 != NULL) {
        if (lts_tls_install_pin(ctx, pin_sha256) != 0) {
            lts_tls_set_error(err, errlen, "cannot install the certificate pin");
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else {
        int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            lts_tls_set_error(err, errlen, "cannot load CA certificates");
            SSL_CTX_free(ctx);
            return NULL;
        }
        /* A CA file may hold the peer's own self-signed leaf certificate
         * (CA:FALSE): trusted as it is, as libcurl does. */
        if (ca_file != NULL)
            X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_PARTIAL_CHAIN);
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
        lts_tls_set_error(err, errlen, "cannot generate EC P-256 key");
        goto done;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        lts_tls_set_error(err, errlen, "cannot draw a random serial number");
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
        lts_tls_set_error(err, errlen, "cannot fill in the certificate (check the host names)");
        goto done;
    }
    if (add_extension(cert, NID_subject_alt_name, sans) != 0 ||
        add_extension(cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_extension(cert, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_extension(cert, NID_ext_key_usage, "serverAuth") != 0 ||
        add_extension(cert, NID_subject_key_identifier, "hash") != 0) {
        lts_tls_set_error(err, errlen, "cannot add certificate extensions (check the host names)");
        goto done;
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
        lts_tls_set_error(err, errlen, "cannot sign certificate");
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
