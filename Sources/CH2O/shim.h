/* The system libraries lts is built on: libuv (event loop), libh2o built on
 * libuv (HTTP/1.1, HTTP/2, TLS sockets), OpenSSL 3 (TLS and libcrypto),
 * libcurl (outgoing HTTP) and SQLite (the store). Only Transport and
 * CLtsShim import this module. */
#ifndef LTS_CH2O_SHIM_H
#define LTS_CH2O_SHIM_H
#include <uv.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#endif
