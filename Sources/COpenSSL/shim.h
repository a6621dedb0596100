/* OpenSSL 3: TLS (libssl) and libcrypto (hashes, HMAC, PBKDF2, random
 * bytes, Ed25519, AES-GCM). */
#ifndef LTS_COPENSSL_SHIM_H
#define LTS_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#endif
