#!/bin/sh
# Replays tests/fuzz/corpus/frame through the fuzz-frame target (make check).
exec ./tests/fuzz/fuzz-frame-replay "${srcdir:-.}/tests/fuzz/corpus/frame"
