/* node_fixture: a node's data directory as `dualsync-node init` makes it, for the unit
 * tests that open a real node (node_open) on real RocksDB in a temp directory. */
#ifndef DUALSYNC_TEST_NODE_FIXTURE_H
#define DUALSYNC_TEST_NODE_FIXTURE_H

#include "keys.h"

#include <stddef.h>

/* Makes root/street, the identity of street (its keys into *street_keys_out, so that a
 * test can sign directory entries the node verifies), and root/node, the data directory
 * of org named name under that street, whose broker is endpoint; the node's directory
 * goes into dir_out. The node logs errors only; its web console is off. */
void nf_make_node_dir(const char *root, const char *street, const char *org, const char *name,
                      const char *endpoint, struct keys *street_keys_out, char *dir_out,
                      size_t size);

#endif
