#!/bin/bash -p
":" /*
# condor-job-wrapper (SPEC S1). This file is both a bash script and a Node.js bundle.
# bash -p reads no BASH_ENV/ENV, imports no functions and ignores SHELLOPTS/BASHOPTS, so the job's
# environment cannot run code here. Node is started by absolute path with an EMPTY environment
# (nothing like NODE_OPTIONS reaches it) and NOTHING of the job's command line: Node reads options
# anywhere on its command line (--env-file after the script, on 20, 22 and 24), so it gets only
# this front's pid and the argument count and reads the job's argv from /proc/PID/cmdline. It
# writes its decision to fd 3; this front then execs it,
# so the runtime keeps the pid HTCondor started and no Node stays resident. Every program started
# from here gets an empty environment (exec -c), so the job's LD_PRELOAD/LD_AUDIT reach none; for
# bash itself, which the dynamic linker starts with the job's environment, a site installs the
# static bash: the packages install a second copy of this file with it on the first line and
# pick one with update-alternatives (docs/deployment.md, "Hardening").
# The Node it runs on: /etc/condor-job-wrapper/node (a symlink to Node, root's choice; --check
# verifies it is root-owned) when present, else /usr/bin/node. Never the job's PATH or environment.
# Two tests on a fixed path (stat, lstat: no fork); an empty or dangling link fails below, loudly.
cjw_node=/usr/bin/node
[ -e /etc/condor-job-wrapper/node ] || [ -L /etc/condor-job-wrapper/node ] && cjw_node=/etc/condor-job-wrapper/node
unset TMOUT
LC_ALL=C
cjw_fail() {
  cjw_msg="condor-job-wrapper: node error: internal error: $1"
  cjw_code=70
  # Node killed by a signal (an admin, the OOM killer, a signal to the process group) is no bug:
  # say which signal. bash keeps the status of the reaped process substitution for a second wait.
  if [ -n "$!" ]; then
    wait "$!" 2>/dev/null
    cjw_st=$?
    # Node's "bad option" (9): the flags --check chose no longer fit this Node binary.
    if [ "$cjw_st" -eq 9 ] && [ "${#cjw_v8[@]}" -gt 0 ]; then
      cjw_msg="condor-job-wrapper: node error: the wrapper's Node process ($cjw_node) refused the V8 flags ${cjw_v8[*]} that --check chose for it (Node overwritten in place since?); the job was not started: run condor-job-wrapper --check as root"
      cjw_code=69
    fi
    if [ "$cjw_st" -gt 128 ] && [ "$cjw_st" -lt 193 ]; then
      cjw_msg="condor-job-wrapper: node error: the wrapper's Node process ($cjw_node): killed by signal $((cjw_st - 128)) (SIG$(kill -l "$cjw_st" 2>/dev/null)) before it decided; the job was not started"
      cjw_code=69
    fi
  fi
  printf '%s\n' "$cjw_msg" >&2
  cjw_f=${_CONDOR_WRAPPER_ERROR_FILE-}
  if [ -n "$cjw_f" ]; then
    # Never block on or write through what the job put at the path (a FIFO would block the open
    # forever, a symlink would redirect it): remove it, then create the file only if nothing is
    # there (noclobber opens with O_EXCL). An empty directory goes too; one with the job's data
    # stays, and stderr says it all.
    if [ -e "$cjw_f" ] || [ -L "$cjw_f" ]; then (exec -c /bin/rm -fd -- "$cjw_f") 2>/dev/null; fi
    if [ ! -e "$cjw_f" ] && [ ! -L "$cjw_f" ] && (set -C; printf '%s\n' "$cjw_msg" >"$cjw_f") 2>/dev/null; then
      (exec -c /bin/chmod 0644 -- "$cjw_f") 2>/dev/null
      # A node error: let the starter (condor, owner's group) see the file, so it requeues (act/report.ts).
      cjw_dir=${cjw_f%/*}
      [ "$cjw_dir" = "$cjw_f" ] || (exec -c /bin/chmod g+x -- "$cjw_dir") 2>/dev/null
    fi
  fi
  exit "$cjw_code"
}
[ -x "$cjw_node" ] || cjw_fail "Node.js not found at $cjw_node (choose it with /etc/condor-job-wrapper/node: docs/deployment.md)"
# V8 without JIT for our Node (src/act/nodeFlags.ts): `--check` (root) leaves a hard link to the
# Node it tested, named for the flags that Node takes silently. Same inode as ours: those flags;
# none matches (no --check yet, or Node replaced since): no flags. A glob and stat(2), no fork.
cjw_v8=()
for cjw_k in /var/cache/condor-job-wrapper/node/jitless*; do
  [ "$cjw_k" -ef "$cjw_node" ] || continue
  case ${cjw_k#/var/cache/condor-job-wrapper/node/} in
    jitless-no-wasm.*) cjw_v8=(--jitless --no-expose-wasm) ;;
    jitless.*) cjw_v8=(--jitless) ;;
  esac
  break
done
cjw_rec=()
exec {cjw_out}>&1
# The decision arrives length-framed (src/act/front.ts, writeHandover): "CJW2", the table's
# length in 8 digits, the table of record lengths, the records. read -N takes each record in one
# read(2); the -d '' form would cost one read(2) per byte of the job's environment.
{
  if IFS= read -r -N 12 cjw_h && [[ $cjw_h =~ ^CJW2[0-9]{8}$ ]] && IFS= read -r -N "$((10#${cjw_h:4}))" cjw_t &&
    [[ $cjw_t =~ ^[0-9]{1,9}( [0-9]{1,9})*$ ]]; then
    set -f
    IFS=' '
    cjw_len=($cjw_t)
    unset IFS
    set +f
    for cjw_l in "${cjw_len[@]}"; do
      cjw_r=
      [ "$cjw_l" = 0 ] || IFS= read -r -N "$((10#$cjw_l))" cjw_r || break
      cjw_rec+=("$cjw_r")
    done
  fi
} < <(exec -c "$cjw_node" "${cjw_v8[@]}" "$0" --cjw-front-v1 "$$" "$#" 3>&1 1>&"$cjw_out" {cjw_out}>&-)
# Reap Node before the exec, so that no Node process (not even a zombie) outlives the handover.
wait "$!" 2>/dev/null
exec {cjw_out}>&-
cjw_n=${#cjw_rec[@]}
# A trusted sshd of condor_ssh_to_job (src/decide/dispatch.ts): exec'd untouched, with the
# environment replayed from /proc byte for byte (a plain exec would add PWD and SHLVL).
# The record after "pass" is how many of our arguments were the wrapper's own options.
if [ "$cjw_n" -eq 4 ] && [ "${cjw_rec[0]}" = CJW2 ] && [ "${cjw_rec[1]}" = pass ] && [[ ${cjw_rec[2]} =~ ^[0-9]{1,4}$ ]] && [ "${cjw_rec[3]}" = END ]; then
  shift "$((10#${cjw_rec[2]}))" || exit 70
  cjw_env=()
  while IFS= read -r -d '' cjw_r; do cjw_env+=("$cjw_r"); done </proc/$$/environ
  exec -c /usr/bin/env -i -- "${cjw_env[@]}" "$@"
fi
if [ "$cjw_n" -ge 4 ] && [ "${cjw_rec[0]}" = CJW2 ] && [ "${cjw_rec[cjw_n-1]}" = END ]; then
  if [ "${cjw_rec[1]}" = exit ]; then exit "${cjw_rec[2]}"; fi
  if [ "${cjw_rec[1]}" = exec ]; then
    cjw_e=${cjw_rec[2]}
    cjw_a=${cjw_rec[cjw_e+3]}
    if [ $((cjw_e + cjw_a + 5)) -eq "$cjw_n" ]; then
      exec -c /usr/bin/env -i -- "${cjw_rec[@]:3:cjw_e}" "${cjw_rec[@]:cjw_e+4:cjw_a}"
    fi
  fi
fi
cjw_fail "the wrapper's Node process ($cjw_node) ended without a complete decision; the job was not started"
exit 70
*/
