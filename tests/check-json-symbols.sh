#!/bin/sh
# check-json-symbols.sh - one JSON library per name (make check): the
# controller links jansson (REST) and libopenvswitch's JSON (OVSDB), which
# once both defined json_string(), json_object() and four more, so that the
# static libopenvswitch definitions silently replaced jansson's for every
# caller.  The build renames libopenvswitch's (lib/ovs-json.syms, applied to
# a copy of the archive with objcopy, and to the declarations by
# lib/ovs-json/openvswitch/json.h).  This fails if
#  - nvo-controller (or any other binary linking jansson) itself defines a
#    symbol that the jansson it loads exports (a collision, old or new);
#  - the renamed libopenvswitch archive still defines one;
#  - the OVSDB IDL code calls a bare name (it would get jansson's);
#  - the rename list and the header's macros differ.
set -u
srcdir=${srcdir:-.}
NM=${NM:-nm}
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d /tmp/nvo-json-syms.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

bins="controller/nvo-controller nvoctl/nvoctl"
jansson=$(ldd controller/nvo-controller | awk '/libjansson/ { print $3 }')
[ -f "$jansson" ] || fail "controller/nvo-controller does not load jansson"
"$NM" -D --defined-only "$jansson" | awk '{ sub(/@.*/, "", $3); print $3 }' \
    | sort -u >"$tmp/jansson"
[ -s "$tmp/jansson" ] || fail "no symbols read from $jansson"

n=0
for b in $bins lib/libopenvswitch-nvo.a; do
    [ -f "$b" ] || fail "$b not built"
    "$NM" --defined-only "$b" 2>/dev/null \
        | awk 'NF == 3 && $2 ~ /[A-Z]/ { print $3 }' | sort -u >"$tmp/defs"
    comm -12 "$tmp/jansson" "$tmp/defs" >"$tmp/both"
    if [ -s "$tmp/both" ]; then
        fail "$b defines what jansson exports (one would shadow the" \
             "other): $(tr '\n' ' ' <"$tmp/both")"
    fi
    n=$((n + 1))
done

# The generated OVSDB IDL (libopenvswitch's JSON only) calls the renamed
# names, never the bare ones (which are jansson's).
"$NM" -u schema/libnvoidl.a 2>/dev/null | awk '{ print $2 }' | sort -u \
    >"$tmp/idl"
cut -d' ' -f1 "$srcdir/lib/ovs-json.syms" | sort >"$tmp/old"
comm -12 "$tmp/old" "$tmp/idl" >"$tmp/both"
[ -s "$tmp/both" ] && fail "schema/libnvoidl.a calls jansson's" \
    "$(tr '\n' ' ' <"$tmp/both")(built without lib/ovs-json?)"

# The archive has the renamed names (the rename ran), and the header
# renames exactly those.
"$NM" --defined-only lib/libopenvswitch-nvo.a 2>/dev/null \
    | awk '{ print $3 }' | sort -u >"$tmp/ovs"
while read -r old new; do
    grep -qx "$new" "$tmp/ovs" || fail "lib/libopenvswitch-nvo.a lacks $new"
    grep -qx "#define $old $new" \
        "$srcdir/lib/ovs-json/openvswitch/json.h" \
        || fail "lib/ovs-json/openvswitch/json.h does not rename $old"
done <"$srcdir/lib/ovs-json.syms"
a=$(grep -c '^#define json_' "$srcdir/lib/ovs-json/openvswitch/json.h")
b=$(grep -c . "$srcdir/lib/ovs-json.syms")
[ "$a" = "$b" ] || fail "the header renames $a names, lib/ovs-json.syms $b"
echo "PASS: $n binaries and archives define nothing jansson exports;" \
     "$b names renamed"
