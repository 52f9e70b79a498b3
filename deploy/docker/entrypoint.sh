#!/bin/sh
# The image's entry point: `guidance-<service> <command>` for the one service the image was built for.
# The service name is fixed at build time (build arg SERVICE), so no environment variable can point an
# image of one service at another service's code or database.
set -eu
service=$(cat /etc/guidance/service)
exec "guidance-${service}" "$@"
