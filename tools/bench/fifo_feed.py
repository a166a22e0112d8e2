#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fifo_feed.py - play /dev/push's part for a pushd on the host.

    fifo_feed.py FIFO CHANNEL RATE COUNT [SIZE]

Writes COUNT message records (struct push_record, docs/ABI.txt) on CHANNEL
into FIFO, RATE a second (0: flat out), ids from 1, each payload
"#s=N #t=NS " padded with 'x' to SIZE bytes (push-load's stamp).  pushd
reads a FIFO given as --device --reader read as it reads the device: one
read() returns whole records, since each record is one write() of at most
PIPE_BUF bytes and pushd's buffer is larger than the pipe.  What a FIFO
cannot do: ioctls (no epoch, no history, no resume) and POST /pub (its
write would come back as a record).  tools/bench/hostprof uses it to
profile pushd's delivery path under valgrind on the host, where the
module cannot be loaded.
"""
import os
import struct
import sys
import time

HDR = struct.Struct("<QQIIHBBI")  # struct push_record
REC_MSG = 1


def record(rid, chan, data):
    size = (HDR.size + len(chan) + len(data) + 7) & ~7
    pad = size - HDR.size - len(chan) - len(data)
    return HDR.pack(rid, time.time_ns(), size, len(data), REC_MSG, len(chan), 0, 0) + chan + data + b"\0" * pad


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__.split("\n\n")[1])
    path, chan = sys.argv[1], sys.argv[2].encode()
    rate, count = float(sys.argv[3]), int(sys.argv[4])
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    if not 1 <= len(chan) <= 64 or size > 3000:
        sys.exit("fifo_feed: channel of 1..64 bytes and SIZE up to 3000, please")
    fd = os.open(path, os.O_WRONLY)
    t0 = time.monotonic()
    for i in range(1, count + 1):
        if rate > 0:
            delay = t0 + (i - 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        data = b"#s=%d #t=%d " % (i, time.time_ns())
        data += b"x" * max(0, size - len(data))
        os.write(fd, record(i, chan, data))
    os.close(fd)


if __name__ == "__main__":
    main()
