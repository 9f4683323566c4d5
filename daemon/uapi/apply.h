/* SPDX-License-Identifier: ISC */
/*
 * A parsed set request applied to the running device, all or nothing.
 */
#ifndef ALAMESH_UAPI_APPLY_H
#define ALAMESH_UAPI_APPLY_H

#include <stddef.h>

#include "daemon/uapi/set.h"

struct device;

/* Applies a parsed request to the running device: all of it, or nothing and a negative errno. */
int uapi_apply(struct device *dev, const struct uapi_set *set, char *err, size_t errlen);

#endif
