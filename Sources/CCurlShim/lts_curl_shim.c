#include "lts_curl_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "lts_tls_shim.h"

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
    return lts_tls_install_pin((SSL_CTX *)ssl_ctx, userptr) == 0 ? CURLE_OK : CURLE_OUT_OF_MEMORY;
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
