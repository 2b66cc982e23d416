/* libFuzzer target: the INI files an operator edits or receives (identity cards,
 * node.conf, broker.conf), through inih and every validator behind it. Must never crash;
 * a bad file must come back as an error with a message. */
#include "config.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *name, const uint8_t *data, size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CONFIG_ERR_MAX], path[128];
    struct org_card card;
    struct node_config node;
    struct broker_config broker;
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/ds-fuzz-config-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    write_file("x.card", data, size);
    write_file("node.conf", data, size);
    write_file("broker.conf", data, size);
    snprintf(path, sizeof(path), "%s/x.card", dir);
    if (config_card_load(path, &card, err) != DS_OK && !err[0])
        abort(); /* every refusal must say why */
    (void)config_node_load(dir, &node, err);
    (void)config_broker_load(dir, &broker, err);
    return 0;
}
