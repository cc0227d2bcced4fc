/*
 * test_plugin.c - a tiny connector built several ways (see Makefile.am) so
 * the loader can be shown refusing each kind of bad plugin.
 */
#include <connrt/connector.h>
#include <stddef.h>

#ifndef TEST_PLUGIN_ABI_MAJOR
#define TEST_PLUGIN_ABI_MAJOR CONNRT_ABI_VERSION_MAJOR
#endif
#ifndef TEST_PLUGIN_STRUCT_SIZE
#define TEST_PLUGIN_STRUCT_SIZE sizeof(struct connrt_connector)
#endif

static const struct connrt_property_def connection_properties[] = {
    {"endpoint", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "Where to go.",
     NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

#ifdef TEST_PLUGIN_BAD_OPERATION
/* A batch operation without execute: the runtime would call NULL. */
static int open_operation(void *ctx, const struct connrt_host *host, void *connection,
                          const connrt_settings_t *settings, const char *component_id,
                          char *errstr, size_t errstr_size)
{
    (void)ctx, (void)host, (void)connection, (void)settings, (void)component_id, (void)errstr,
        (void)errstr_size;
    return 0;
}

static const struct connrt_operation operations[] = {
    {.type = "send", .kind = CONNRT_OP_BATCH, .properties = connection_properties + 1,
     .open = open_operation},
    {.type = NULL},
};
#else
static const struct connrt_operation operations[] = {
    {.type = NULL},
};
#endif

static int open_connection(const struct connrt_host *host, const connrt_settings_t *settings,
                           const char *component_id, const char *container_dir,
                           void **connection, char *errstr, size_t errstr_size)
{
    (void)host, (void)settings, (void)component_id, (void)container_dir, (void)errstr,
        (void)errstr_size;
    *connection = NULL;
    return 0;
}

static void close_connection(void *connection)
{
    (void)connection;
}

static const struct connrt_connector descriptor = {
    .abi_version = (TEST_PLUGIN_ABI_MAJOR << 16) | CONNRT_ABI_VERSION_MINOR,
    .struct_size = TEST_PLUGIN_STRUCT_SIZE,
    .name = TEST_PLUGIN_NAME,
    .version = "0.0.1",
    .description = "Test connector for the loader's checks.",
    .connection_properties = connection_properties,
    .operations = operations,
    .connection_open = open_connection,
    .connection_close = close_connection,
};

#ifndef TEST_PLUGIN_NO_ENTRY
const struct connrt_connector *connrt_connector_entry(void)
{
    return &descriptor;
}
#else
/* Exported under another name: the loader must not find an entry point. */
const struct connrt_connector *not_the_entry(void);
const struct connrt_connector *not_the_entry(void)
{
    return &descriptor;
}
#endif
