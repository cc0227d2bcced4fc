/*
 * metrics_http.h - the HTTP endpoint of `connrt serve` on 127.0.0.1
 * (libmicrohttpd): GET /health and GET /metrics (Prometheus text format).
 * The pages are made by callbacks of the caller, on libmicrohttpd's thread.
 */
#ifndef CONNRT_METRICS_HTTP_H
#define CONNRT_METRICS_HTTP_H

#include <stddef.h>

typedef struct connrt_metrics_http connrt_metrics_http_t;

/* Growing text a page is written into. */
typedef struct connrt_page connrt_page_t;
/* Append printf-style text; on no memory the page is answered 500. */
void connrt_page_printf(connrt_page_t *page, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct connrt_metrics_pages {
    /* Fill /health; return the HTTP status (200 healthy, 503 not). */
    int (*health)(void *opaque, connrt_page_t *page);
    /* Fill /metrics. */
    void (*metrics)(void *opaque, connrt_page_t *page);
    void *opaque;
};

/* Listen on 127.0.0.1:port. `pages` is copied; its opaque must outlive the
 * endpoint. Returns a handle owned by the caller (stop it with
 * connrt_metrics_http_stop), or NULL with errstr. */
connrt_metrics_http_t *connrt_metrics_http_start(unsigned port,
                                                 const struct connrt_metrics_pages *pages,
                                                 char *errstr, size_t errstr_size);
/* Stop answering and free. NULL no-op. */
void connrt_metrics_http_stop(connrt_metrics_http_t *h);

#endif
