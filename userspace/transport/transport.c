// SPDX-License-Identifier: GPL-2.0
/* transport.c - which transport a /sub request is. */
#include <stddef.h>

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
