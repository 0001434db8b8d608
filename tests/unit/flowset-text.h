/* flowset-text.h - a flow set as text, for the OVS unit tests' expected
 * outputs (test-ovs-flows, test-ovs-flowgen). */
#ifndef NVO_TESTS_FLOWSET_TEXT_H
#define NVO_TESTS_FLOWSET_TEXT_H 1

struct ovs_flowset;

/* Returns the flows of 'fs' in table 'table' (every table if negative)
 * with a priority of at least 'min_priority', each as ovs_flow_format()
 * writes it, sorted, one per line.  Caller frees. */
char *flowset_text(const struct ovs_flowset *fs, int table,
                   int min_priority);

#endif /* tests/unit/flowset-text.h */
