#include "lts_tls_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* The peers a client context trusts by digest: leaf certificates (SHA-256
 * of the DER certificate) and keys (SHA-256 of the DER SubjectPublicKeyInfo,
 * which a renewed certificate keeps), and what the last verified leaf had. */
typedef struct lts_pin_set {
    size_t certificates;
    size_t keys;
    /* With a CA file or the system CAs: a chain they accept also passes. */
    int chain_fallback;
    int has_last;
    unsigned char last_certificate[32];
    unsigned char last_key[32];
    /* The last leaf presented, accepted or not, and how many so far. */
    unsigned long presented;
    unsigned char presented_certificate[32];
    unsigned char digests[][32];
} lts_pin_set_t;

static void free_pins(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static int pin_index = -1;
static pthread_once_t pin_index_once = PTHREAD_ONCE_INIT;

static void make_pin_index(void)
{
    pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_pins);
}

/* Registered once (pthread_once: curl clients on several threads may ask
 * first at the same time); OpenSSL keeps the index for the life of the
 * process. -1 when OpenSSL could not register it. */
static int pin_ex_index(void)
{
    pthread_once(&pin_index_once, make_pin_index);
    return pin_index;
}

static int key_digest(X509 *cert, unsigned char out[32])
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    if (len <= 0)
        return -1;
    unsigned int out_len = 0;
    int ok = EVP_Digest(der, (size_t)len, out, &out_len, EVP_sha256(), NULL) == 1 && out_len == 32;
    OPENSSL_free(der);
    return ok ? 0 : -1;
}

static int contains(const unsigned char (*digests)[32], size_t count, const unsigned char digest[32])
{
    for (size_t i = 0; i < count; i++)
        if (CRYPTO_memcmp(digests[i], digest, 32) == 0)
            return 1;
    return 0;
}

/* Accepts the chain when its leaf has a pinned certificate or key digest;
 * the pin replaces chain and name checks, as with SSH host keys. With a
 * chain fallback, a chain the CAs accept passes too (and a chain with
 * certificates above the leaf must pass them). */
static int verify_pins(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    lts_pin_set_t *pins = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_ex_index());
    if (pins == NULL) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (X509_STORE_CTX_get_error_depth(store) != 0) {
        /* Above the leaf: the CAs' verdict, or nothing to check with pins
         * alone (a self-signed leaf, the case pins are for, has no chain). */
        if (pins->chain_fallback)
            return preverify_ok;
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    unsigned char certificate[32];
    unsigned char key[32];
    unsigned int len = 0;
    X509 *leaf = X509_STORE_CTX_get_current_cert(store);
    if (leaf == NULL || X509_digest(leaf, EVP_sha256(), certificate, &len) != 1 || len != 32 || key_digest(leaf, key) != 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    memcpy(pins->presented_certificate, certificate, 32);
    pins->presented++;
    if (contains(pins->digests, pins->certificates, certificate) ||
        contains(pins->digests + pins->certificates, pins->keys, key) || (pins->chain_fallback && preverify_ok)) {
        memcpy(pins->last_certificate, certificate, 32);
        memcpy(pins->last_key, key, 32);
        pins->has_last = 1;
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    if (!pins->chain_fallback || preverify_ok)
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

static int install_pins(SSL_CTX *ctx, const unsigned char *certificates, size_t certificate_count, const unsigned char *keys,
                        size_t key_count, int chain_fallback)
{
    int index = pin_ex_index();
    if (index < 0)
        return -1;
    lts_pin_set_t *pins = calloc(1, sizeof(*pins) + (certificate_count + key_count) * 32);
    if (pins == NULL)
        return -1;
    pins->certificates = certificate_count;
    pins->keys = key_count;
    pins->chain_fallback = chain_fallback;
    if (certificate_count > 0)
        memcpy(pins->digests, certificates, certificate_count * 32);
    if (key_count > 0)
        memcpy(pins->digests + certificate_count, keys, key_count * 32);
    if (SSL_CTX_set_ex_data(ctx, index, pins) != 1) {
        free(pins);
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_pins);
    return 0;
}

int lts_tls_install_pin(SSL_CTX *ctx, const unsigned char *pin_sha256)
{
    return install_pins(ctx, pin_sha256, 1, NULL, 0, 0);
}

SSL_CTX *lts_tls_client_ctx(const char *ca_file, const unsigned char *pin_sha256, int insecure, char *err,
                            size_t errlen)
{
    return lts_tls_client_ctx_pinned(ca_file, pin_sha256, pin_sha256 != NULL ? 1 : 0, NULL, 0, insecure, err, errlen);
}

SSL_CTX *lts_tls_client_ctx_pinned(const char *ca_file, const unsigned char *certificate_pins, size_t certificate_count,
                                   const unsigned char *key_pins, size_t key_count, int insecure, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        lts_tls_set_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    int chain = certificate_count == 0;
    if (chain) {
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
    /* Installed even with no pin: it records the leaf it accepted. */
    if (install_pins(ctx, certificate_pins, certificate_count, key_pins, key_count, chain) != 0) {
        lts_tls_set_error(err, errlen, "cannot install the certificate pins");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

unsigned long lts_tls_last_presented(SSL_CTX *ctx, unsigned char certificate[32])
{
    int index = pin_ex_index();
    lts_pin_set_t *pins = index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, index);
    if (pins == NULL || pins->presented == 0)
        return 0;
    memcpy(certificate, pins->presented_certificate, 32);
    return pins->presented;
}

int lts_tls_last_verified(SSL_CTX *ctx, unsigned char certificate[32], unsigned char key[32])
{
    int index = pin_ex_index();
    lts_pin_set_t *pins = index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, index);
    if (pins == NULL || !pins->has_last)
        return -1;
    memcpy(certificate, pins->last_certificate, 32);
    memcpy(key, pins->last_key, 32);
    return 0;
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

/* A leaf certificate for `key`, self-signed, valid `days` days from an
 * hour ago. NULL with `err`. */
static X509 *certify(EVP_PKEY *key, const char *common_name, const char *sans, int days, char *err, size_t errlen)
{
    X509 *cert = X509_new();
    if (cert == NULL) {
        lts_tls_set_error(err, errlen, "cannot make a certificate");
        return NULL;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        lts_tls_set_error(err, errlen, "cannot draw a random serial number");
        X509_free(cert);
        return NULL;
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
        X509_free(cert);
        return NULL;
    }
    if (add_extension(cert, NID_subject_alt_name, sans) != 0 ||
        add_extension(cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_extension(cert, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_extension(cert, NID_ext_key_usage, "serverAuth") != 0 ||
        add_extension(cert, NID_subject_key_identifier, "hash") != 0) {
        lts_tls_set_error(err, errlen, "cannot add certificate extensions (check the host names)");
        X509_free(cert);
        return NULL;
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
        lts_tls_set_error(err, errlen, "cannot sign certificate");
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int lts_tls_generate_self_signed(const char *cert_path, const char *key_path, const char *common_name,
                                 const char *sans, int days, char *err, size_t errlen)
{
    int result = -1;
    FILE *fp = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (key == NULL) {
        lts_tls_set_error(err, errlen, "cannot generate EC P-256 key");
        goto done;
    }
    if ((cert = certify(key, common_name, sans, days, err, errlen)) == NULL)
        goto done;
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

char *lts_tls_certify_key(const char *key_path, const char *common_name, const char *sans, int days, size_t *pem_len,
                          char *err, size_t errlen)
{
    EVP_PKEY *key = NULL;
    if (lts_tls_read_private_key(key_path, &key, err, errlen) != 0)
        return NULL;
    X509 *cert = certify(key, common_name, sans, days, err, errlen);
    EVP_PKEY_free(key);
    if (cert == NULL)
        return NULL;
    char *pem = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len > 0 && (pem = malloc((size_t)len)) != NULL) {
            memcpy(pem, data, (size_t)len);
            *pem_len = (size_t)len;
        }
    }
    if (pem == NULL)
        lts_tls_set_error(err, errlen, "cannot write the certificate");
    BIO_free(bio);
    X509_free(cert);
    return pem;
}

/* The first certificate of a PEM file, or NULL. */
static X509 *read_certificate(const char *cert_path)
{
    FILE *fp = fopen(cert_path, "r");
    if (fp == NULL)
        return NULL;
    X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    return cert;
}

int lts_tls_cert_info(const char *cert_path, unsigned char key_sha256[32], int64_t *not_after)
{
    X509 *cert = read_certificate(cert_path);
    if (cert == NULL)
        return -1;
    struct tm tm;
    int ok = key_digest(cert, key_sha256) == 0 && ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1;
    if (ok)
        *not_after = (int64_t)timegm(&tm);
    X509_free(cert);
    return ok ? 0 : -1;
}

int lts_tls_cert_fingerprint(const char *cert_path, unsigned char out[32])
{
    X509 *cert = read_certificate(cert_path);
    if (cert == NULL)
        return -1;
    unsigned int len = 0;
    int ok = X509_digest(cert, EVP_sha256(), out, &len);
    X509_free(cert);
    return ok == 1 && len == 32 ? 0 : -1;
}
