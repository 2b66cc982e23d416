/* chaos: a frame's fate is drawn from one xorshift stream seeded by the spec, so a seed
 * reproduces the decisions of a process (the interleaving of processes is the OS's).
 * Delayed frames wait 10-200 ms; a reordered frame is held until the next frame has gone
 * (or 50 ms passed), so it arrives after a frame sent later. Held frames are copies. */
#include "chaos.h"

#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAOS_MAX_HELD 256

struct held {
    uint8_t *data;
    size_t len;
    uint8_t *peer;
    size_t peer_len;
    uint64_t due_ms;
    bool reordered;
};

struct chaos {
    double drop, dup, reorder, delay;
    uint64_t rng;
    struct held held[CHAOS_MAX_HELD];
    size_t n_held;
    struct chaos_stats stats;
};

static double chaos_rand(struct chaos *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static bool parse_spec(struct chaos *c, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false;
        *eq = '\0';
        char *end = NULL;
        double v = strtod(eq + 1, &end);
        if (*end || v < 0)
            return false;
        if (strcmp(tok, "drop") == 0)
            c->drop = v;
        else if (strcmp(tok, "dup") == 0)
            c->dup = v;
        else if (strcmp(tok, "reorder") == 0)
            c->reorder = v;
        else if (strcmp(tok, "delay") == 0)
            c->delay = v;
        else if (strcmp(tok, "seed") == 0)
            c->rng = (uint64_t)v * 0x9E3779B97F4A7C15ull + 1;
        else
            return false;
    }
    return c->drop + c->delay + c->reorder <= 1.0 && c->dup <= 1.0;
}

struct chaos *chaos_new(const char *spec, bool *bad)
{
    *bad = false;
    if (!spec || !*spec)
        return NULL;
    struct chaos *c = xcalloc(1, sizeof(*c));
    c->rng = 0x2545F4914F6CDD1Dull;
    if (!parse_spec(c, spec)) {
        *bad = true;
        free(c);
        return NULL;
    }
    log_warn("chaos: FAULT INJECTION ON drop=%.2f dup=%.2f reorder=%.2f delay=%.2f", c->drop,
             c->dup, c->reorder, c->delay);
    return c;
}

void chaos_destroy(struct chaos **cp)
{
    struct chaos *c = *cp;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_held; i++) {
        free(c->held[i].data);
        free(c->held[i].peer);
    }
    free(c);
    *cp = NULL;
}

static void hold(struct chaos *c, const void *peer, size_t peer_len, const uint8_t *data,
                 size_t len, uint64_t due, bool reordered)
{
    struct held *h = &c->held[c->n_held++];
    h->data = xmemdup(data, len);
    h->len = len;
    h->peer = peer_len ? xmemdup(peer, peer_len) : NULL;
    h->peer_len = peer_len;
    h->due_ms = due;
    h->reordered = reordered;
}

static void release(struct chaos *c, size_t i, chaos_send_fn send, void *arg)
{
    struct held h = c->held[i];
    c->held[i] = c->held[--c->n_held];
    send(arg, h.peer, h.data, h.len);
    free(h.data);
    free(h.peer);
}

void chaos_submit(struct chaos *c, const void *peer, size_t peer_len, const uint8_t *data,
                  size_t len, uint64_t now_ms, chaos_send_fn send, void *arg)
{
    double r = chaos_rand(c);
    if (r < c->drop) {
        c->stats.dropped++;
        return;
    }
    r -= c->drop;
    if (c->n_held < CHAOS_MAX_HELD && r < c->delay) {
        c->stats.delayed++;
        hold(c, peer, peer_len, data, len, now_ms + 10 + (uint64_t)(chaos_rand(c) * 190), false);
        return;
    }
    r -= c->delay;
    if (c->n_held < CHAOS_MAX_HELD && r < c->reorder) {
        c->stats.reordered++;
        hold(c, peer, peer_len, data, len, now_ms + 50, true);
        return;
    }
    send(arg, peer, data, len);
    if (chaos_rand(c) < c->dup) {
        c->stats.duplicated++;
        send(arg, peer, data, len);
    }
    /* Frames held for reordering go right after this later one. */
    for (size_t i = 0; i < c->n_held;)
        if (c->held[i].reordered)
            release(c, i, send, arg);
        else
            i++;
}

void chaos_flush(struct chaos *c, uint64_t now_ms, chaos_send_fn send, void *arg)
{
    for (size_t i = 0; i < c->n_held;)
        if (c->held[i].due_ms <= now_ms)
            release(c, i, send, arg);
        else
            i++;
}

void chaos_stats(const struct chaos *c, struct chaos_stats *out)
{
    if (c)
        *out = c->stats;
    else
        memset(out, 0, sizeof(*out));
}
