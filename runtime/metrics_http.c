/*
 * metrics_http.c - /health and /metrics over libmicrohttpd, bound to
 * 127.0.0.1 only: the endpoint is for a local scraper or an agent, never
 * exposed by connrt itself.
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct connrt_page {
    char *data;
    size_t len, cap;
    int failed;
};

struct connrt_metrics_http {
    struct MHD_Daemon *daemon;
    struct connrt_metrics_pages pages;
};

void connrt_page_printf(connrt_page_t *page, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !page->failed; tries++) {
        size_t room = page->cap - page->len;
        va_start(ap, fmt);
        int n = vsnprintf(page->data ? page->data + page->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            page->failed = 1;
        } else if ((size_t)n < room) {
            page->len += (size_t)n;
            return;
        } else {
            size_t cap = page->cap * 2 + (size_t)n + 1024;
            char *grown = realloc(page->data, cap);
            if (grown == NULL) {
                page->failed = 1;
            } else {
                page->data = grown;
                page->cap = cap;
            }
        }
    }
}

static enum MHD_Result reply(struct MHD_Connection *connection, unsigned status,
                             const char *type, connrt_page_t *page)
{
    /* The response takes the page's buffer (freed by libmicrohttpd). */
    struct MHD_Response *response =
        page->data != NULL
            ? MHD_create_response_from_buffer(page->len, page->data, MHD_RESPMEM_MUST_FREE)
            : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (response == NULL) {
        free(page->data);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct connrt_metrics_http *h = cls;
    connrt_page_t page = {0};
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; charset=utf-8";
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        connrt_page_printf(&page, "only GET\n");
    } else if (strcmp(url, "/health") == 0) {
        type = "application/json";
        status = (unsigned)h->pages.health(h->pages.opaque, &page);
    } else if (strcmp(url, "/metrics") == 0) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        h->pages.metrics(h->pages.opaque, &page);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        connrt_page_printf(&page, "not found: /health and /metrics are served\n");
    }
    if (page.failed) {
        free(page.data);
        page = (connrt_page_t){0};
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return reply(connection, status, type, &page);
}

connrt_metrics_http_t *connrt_metrics_http_start(unsigned port,
                                                 const struct connrt_metrics_pages *pages,
                                                 char *errstr, size_t errstr_size)
{
    struct sockaddr_in addr;
    connrt_metrics_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    h->pages = *pages;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                 (uint16_t)port, NULL, NULL, answer, h, MHD_OPTION_SOCK_ADDR,
                                 (const struct sockaddr *)&addr, MHD_OPTION_END);
    if (h->daemon == NULL) {
        snprintf(errstr, errstr_size, "cannot listen on 127.0.0.1:%u (in use?)", port);
        free(h);
        return NULL;
    }
    return h;
}

void connrt_metrics_http_stop(connrt_metrics_http_t *h)
{
    if (h != NULL) {
        MHD_stop_daemon(h->daemon);
        free(h);
    }
}
