#!/bin/sh
# Replays tests/fuzz/corpus/rest through the fuzz-rest-body target (make check).
exec ./tests/fuzz/fuzz-rest-body-replay "${srcdir:-.}/tests/fuzz/corpus/rest"
