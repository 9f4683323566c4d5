/* SPDX-License-Identifier: ISC */
/*
 * The answer to get=1: the device and its peers as key=value lines; and
 * to get=stats, the node's counters.
 */
#ifndef ALAMESH_UAPI_GET_H
#define ALAMESH_UAPI_GET_H

#include <stddef.h>

struct device;

/*
 * Writes the answer to get=1 into a malloc'd buffer (*out, *outlen). Returns
 * 0 or -ENOMEM.
 */
int uapi_get(struct device *dev, char **out, size_t *outlen);

/*
 * The answer to get=stats, alamesh's own: the node's drop counters as
 * key=value lines (alamesh(8), show IFACE stats). 0 or -ENOMEM.
 */
int uapi_get_stats(struct device *dev, char **out, size_t *outlen);

#endif
