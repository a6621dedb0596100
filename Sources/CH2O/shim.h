/* libuv (the event loop) and libh2o built on it (HTTP/1.1, HTTP/2, TLS
 * sockets). Only Transport and CServerShim import this module. */
#ifndef LTS_CH2O_SHIM_H
#define LTS_CH2O_SHIM_H
#include <uv.h>
#include <h2o.h>
#include <h2o/http1.h>
#endif
