#!/bin/sh
# Replays tests/fuzz/corpus/rest-framing through the fuzz-rest-framing
# target (make check).
exec ./tests/fuzz/fuzz-rest-framing-replay \
    "${srcdir:-.}/tests/fuzz/corpus/rest-framing"
