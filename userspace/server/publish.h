/* SPDX-License-Identifier: GPL-2.0 */
/*
 * publish.h - the /pub/CH routes.
 */
#ifndef PUSHD_PUBLISH_H
#define PUSHD_PUBLISH_H

#include <microhttpd.h>

/* The device descriptors: @pubfd publishes, @infofd answers PUSH_IOC_CHAN_INFO. */
void publish_init(int pubfd, int infofd);

/* POST /pub/@chan, first call: checks authority and sets up the body collector in *con_cls. */
enum MHD_Result http_pub_post(struct MHD_Connection *conn, const char *chan, void **con_cls);

/* GET /pub/@chan: the channel's state as JSON. */
enum MHD_Result http_pub_get(struct MHD_Connection *conn, const char *chan);

#endif
