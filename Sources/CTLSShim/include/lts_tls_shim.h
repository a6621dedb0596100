/*
 * lts_tls_shim: OpenSSL glue only (libssl, libcrypto): client contexts with
 * a certificate pin or CA file, self-signed certificates and fingerprints.
 * C because OpenSSL 3 key generation and protocol limits are macros or
 * variadic functions (EVP_EC_gen, SSL_CTX_set_min_proto_version). The only
 * global state is the certificate pin's ex-data index, registered once
 * (pthread_once); every function may be called from any thread.
 */
#ifndef LTS_TLS_SHIM_H
#define LTS_TLS_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

/* ---- TLS -------------------------------------------------------------- */

/** A TLS 1.2+ client context that verifies the peer:
 *  with `pin_sha256` (32 bytes) the leaf certificate's SHA-256 must match it;
 *  else with `ca_file` the chain must lead to it; else the system CAs.
 *  `insecure` disables verification and exists only for explicit flags. */
SSL_CTX *lts_tls_client_ctx(const char *ca_file, const unsigned char *pin_sha256, int insecure, char *err,
                            size_t errlen);

/** A client context that accepts a peer whose leaf certificate has one of
 *  `certificate_count` SHA-256 digests, or whose key (its DER
 *  SubjectPublicKeyInfo) has one of `key_count` SHA-256 digests (32 bytes
 *  each, packed). With no certificate digest, the chain is also checked as
 *  lts_tls_client_ctx does with `ca_file` (or the system CAs), and a chain
 *  that passes is accepted too. */
SSL_CTX *lts_tls_client_ctx_pinned(const char *ca_file, const unsigned char *certificate_pins, size_t certificate_count,
                                   const unsigned char *key_pins, size_t key_count, int insecure, char *err, size_t errlen);

/** The certificate digest of the last leaf a context of
 *  lts_tls_client_ctx_pinned was presented, accepted or not; returns how
 *  many it was presented so far (0: none, `certificate` untouched). */
unsigned long lts_tls_last_presented(SSL_CTX *ctx, unsigned char certificate[32]);

/** The certificate and key digests of the last leaf a context of
 *  lts_tls_client_ctx_pinned accepted. 0, or -1 when none yet. */
int lts_tls_last_verified(SSL_CTX *ctx, unsigned char certificate[32], unsigned char key[32]);

/** The TLS 1.2 suites a server offers: ECDHE with AES-GCM or ChaCha20-Poly1305. */
#define LTS_TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/** Writes a new EC P-256 key and a self-signed certificate valid `days`
 *  days with the subject alternative names `sans` ("DNS:a,IP:127.0.0.1").
 *  The key file is created 0600; neither file is written through a
 *  symbolic link (O_NOFOLLOW). Returns 0, or -1 with `err`. */
int lts_tls_generate_self_signed(const char *cert_path, const char *key_path, const char *common_name,
                                 const char *sans, int days, char *err, size_t errlen);

/** A new self-signed certificate (as lts_tls_generate_self_signed makes)
 *  for the key already at `key_path`: the PEM, malloc'd (the caller frees
 *  it), its length in `pem_len`; NULL with `err`. */
char *lts_tls_certify_key(const char *key_path, const char *common_name, const char *sans, int days, size_t *pem_len,
                          char *err, size_t errlen);

/** The SHA-256 of the first certificate's key (DER SubjectPublicKeyInfo)
 *  in a PEM file and its expiry (Unix seconds). 0 or -1. */
int lts_tls_cert_info(const char *cert_path, unsigned char key_sha256[32], int64_t *not_after);

/** SHA-256 of the DER form of the first certificate in a PEM file. 0 or -1. */
int lts_tls_cert_fingerprint(const char *cert_path, unsigned char out[32]);

/* Shared with the other shims (CServerShim, CCurlShim). */

/** Copies `what` and OpenSSL's first queued error into `err`. */
void lts_tls_set_error(char *err, size_t errlen, const char *what);

/** Reads the PEM private key at `key_path` (opened with O_NOFOLLOW) into
 *  `key`; 0, or -1 with `err`. */
int lts_tls_read_private_key(const char *key_path, EVP_PKEY **key, char *err, size_t errlen);

/** Makes `ctx` accept only a peer whose leaf certificate has the SHA-256
 *  `pin_sha256` (32 bytes, copied). 0, or -1. */
int lts_tls_install_pin(SSL_CTX *ctx, const unsigned char *pin_sha256);

#endif
