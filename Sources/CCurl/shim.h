/* libcurl: outgoing HTTPS requests and SMTP mail. */
#ifndef LTS_CCURL_SHIM_H
#define LTS_CCURL_SHIM_H
#include <curl/curl.h>
#endif
