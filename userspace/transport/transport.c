// SPDX-License-Identifier: GPL-2.0
/* transport.c - which transport a /sub request is; pieces the hub-written transports share. */
#include <stddef.h>
#include <sys/uio.h>

#include "transport/transport.h"

/* In the order requests are matched: long-poll, which takes any, last. */
static const struct push_transport *const transports[] = {
	&transport_ws, &transport_sse, &transport_longpoll,
};

const struct push_transport *transport_detect(struct MHD_Connection *conn)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (transports[i]->detect(conn))
			return transports[i];
	return NULL;
}

int iov_append(struct iovec *iov, int k, const struct iovec *piece, int np, size_t *skip,
	       size_t *total)
{
	for (int j = 0; j < np; j++) {
		if (*skip >= piece[j].iov_len) {
			*skip -= piece[j].iov_len;
			continue;
		}
		iov[k++] = (struct iovec){ (char *)piece[j].iov_base + *skip,
					   piece[j].iov_len - *skip };
		*total += piece[j].iov_len - *skip;
		*skip = 0;
	}
	return k;
}
