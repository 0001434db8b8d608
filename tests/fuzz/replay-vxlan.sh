#!/bin/sh
# Replays the vxlan fuzz corpus through fuzz-vxlan-replay (make check).
exec "${builddir:-.}/tests/fuzz/fuzz-vxlan-replay" "${srcdir:-.}/tests/fuzz/corpus/vxlan"
