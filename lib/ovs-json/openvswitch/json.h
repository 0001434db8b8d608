/* openvswitch/json.h, as nvo sees it: libopenvswitch's JSON header with the
 * six functions whose names jansson also exports (json_array, json_equal,
 * json_integer, json_object, json_real, json_string) renamed ovs_json_*.
 *
 * The controller links both libraries: jansson for the REST API,
 * libopenvswitch's JSON for OVSDB.  With the same names in both, the
 * static libopenvswitch.a definitions silently replaced jansson's for every
 * caller.  The build links a copy of libopenvswitch.a renamed with
 * objcopy --redefine-syms=lib/ovs-json.syms (lib/automake.mk), and this
 * header, found first on the include path (configure.ac's OVS_CFLAGS),
 * renames the declarations and calls of every file that includes
 * libopenvswitch's JSON header, directly or through the IDL, to match.
 * jansson's names then mean jansson everywhere.  tests/check-json-symbols.sh
 * (make check) fails if a binary defines a name jansson exports, and if
 * this list and lib/ovs-json.syms part. */
#ifndef NVO_OVS_JSON_RENAME_H
#define NVO_OVS_JSON_RENAME_H 1
#define json_array ovs_json_array
#define json_equal ovs_json_equal
#define json_integer ovs_json_integer
#define json_object ovs_json_object
#define json_real ovs_json_real
#define json_string ovs_json_string
#endif
#include_next <openvswitch/json.h>
