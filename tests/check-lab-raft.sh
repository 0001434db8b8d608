#!/bin/sh
# check-lab-raft.sh - the lab's Raft helpers (deploy/lab-lib.sh) on canned
# `cluster/status` answers (make check; no daemon, no namespace): the
# members' ovs-appctl (lab_raft_appctl) is the seam replaced here.
#  - lab_raft_leader names the member saying "leader" with the highest
#    term: a deposed leader (cut off or stopped, then resumed) still says
#    leader in its old term until it hears of the newer one
#  - a member that does not answer is skipped; no leader: fails, prints
#    nothing
#  - lab_raft_role prints a member's role
set -u
srcdir=${srcdir:-.}
. "$srcdir/deploy/lab-lib.sh"

fails=0
expect() {   # expect DESCRIPTION WANT GOT
    if [ "$2" = "$3" ]; then echo "ok: $1"
    else echo "FAIL: $1: want '$2', got '$3'"; fails=$((fails + 1)); fi
}

# STATUS_N: member N's canned answer ("" = it does not answer).
lab_raft_appctl() {
    local _s
    eval "_s=\${STATUS_$1:-}"
    [ -n "$_s" ] || return 1
    printf 'Name: NVO\nStatus: cluster member\n%s\nLeader: self\n' "$_s"
}
LAB_RAFT_N=3

STATUS_1=$(printf 'Role: leader\nTerm: 3') \
STATUS_2=$(printf 'Role: leader\nTerm: 4') \
STATUS_3=$(printf 'Role: follower\nTerm: 4')
export STATUS_1 STATUS_2 STATUS_3
expect "the newer-term leader, not the deposed one listed first" 2 "$(lab_raft_leader)"
STATUS_1=$(printf 'Role: leader\nTerm: 12') \
STATUS_2=$(printf 'Role: follower\nTerm: 12') \
STATUS_3=$(printf 'Role: leader\nTerm: 9')
expect "terms compared as numbers (12 > 9)" 1 "$(lab_raft_leader)"
STATUS_1='' STATUS_3=$(printf 'Role: leader\nTerm: 13')
expect "a member that does not answer is skipped" 3 "$(lab_raft_leader)"
expect "lab_raft_role" follower "$(lab_raft_role 2)"
STATUS_3=$(printf 'Role: candidate\nTerm: 14')
if out=$(lab_raft_leader); then
    echo "FAIL: no leader, yet lab_raft_leader succeeded ('$out')"; fails=$((fails + 1))
else
    expect "no leader: fails, prints nothing" '' "$out"
fi

[ "$fails" -eq 0 ]
