/*
 * group_members.c - the consumer-group members this process holds right now
 * (a Consume between its join and its leave), so that a Commit Offset of the
 * same connection and group commits through that member.
 *
 * Why: Kafka takes offsets from a client outside the group (no member id,
 * generation -1) only while the group has no active member; with a member
 * in the group, only that member's commit is accepted. In a process
 * consume -> ... -> commit_offset, the consumer is still a member when the
 * commit runs. (librdkafka's mock cluster also refuses the outside commit
 * for any group that ever had a member.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "operations.h"

struct group_member {
    const struct kafka_connection *conn;
    char *group; /* owned */
    rd_kafka_t *rk;
};

static pthread_mutex_t members_lock = PTHREAD_MUTEX_INITIALIZER;
static struct group_member *members;
static size_t nmembers, members_capacity;

int kafka_group_member_add(const struct kafka_connection *conn, const char *group,
                           rd_kafka_t *rk)
{
    char *copy = strdup(group);
    int rc = -1;

    if (copy == NULL) {
        return -1;
    }
    pthread_mutex_lock(&members_lock);
    if (nmembers == members_capacity) {
        size_t capacity = members_capacity ? 2 * members_capacity : 4;
        struct group_member *grown = realloc(members, capacity * sizeof(*members));
        if (grown != NULL) {
            members = grown;
            members_capacity = capacity;
        }
    }
    if (nmembers < members_capacity) {
        members[nmembers].conn = conn;
        members[nmembers].group = copy;
        members[nmembers].rk = rk;
        nmembers++;
        copy = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&members_lock);
    free(copy);
    return rc;
}

void kafka_group_member_remove(rd_kafka_t *rk)
{
    pthread_mutex_lock(&members_lock);
    for (size_t i = 0; i < nmembers; i++) {
        if (members[i].rk == rk) {
            free(members[i].group);
            members[i] = members[--nmembers];
            break;
        }
    }
    if (nmembers == 0) {
        free(members);
        members = NULL;
        members_capacity = 0;
    }
    pthread_mutex_unlock(&members_lock);
}

int kafka_group_member_with(const struct kafka_connection *conn, const char *group,
                            int (*fn)(rd_kafka_t *rk, void *opaque), void *opaque)
{
    int rc = 1;

    /* Held during fn: the member cannot leave (remove waits) meanwhile. */
    pthread_mutex_lock(&members_lock);
    for (size_t i = 0; i < nmembers; i++) {
        if (members[i].conn == conn && strcmp(members[i].group, group) == 0) {
            rc = fn(members[i].rk, opaque);
            break;
        }
    }
    pthread_mutex_unlock(&members_lock);
    return rc;
}
