#!/bin/sh
# Entry point of the CareerOS image (see docker/Dockerfile): prepare /tmp, the
# only writable path when the container runs with a read-only root filesystem
# (it is usually a fresh tmpfs or emptyDir), then exec the process kind given
# as the command so that it is PID 1 and receives SIGTERM directly.
set -eu

if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    # prometheus_client sums every *.db file in the directory: files left by
    # an earlier run of this container (a restart keeps an emptyDir) would be
    # counted again.
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
fi

exec "$@"
