#!/usr/bin/env bash
# Kept for old commands: the same as bench/run.sh chat [--options].
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" chat "$@"
