#!/bin/bash
# Runs the same lxc commands with two clients against one daemon and diffs stdout, stderr and
# exit codes. Usage: LXD_DIR=/path compare-with-real.sh /usr/bin/lxc ./target/debug/lxc
# Each client gets its own LXD_CONF. Exit status 1 when any command differs.
set -u
A=${1:?reference lxc}; B=${2:?lxc under test}
: "${LXD_DIR:?set LXD_DIR to the daemon directory}"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W/conf-a" "$W/conf-b"
fails=0
CMDS=()
run() { # run <stdin-file|-> args...  (queued; all run per side, in order, so state matches)
  CMDS+=("$(printf '%q ' "$@")")
}
play() { # play <side> <binary>
  local i=0 c
  for c in "${CMDS[@]}"; do
    eval "set -- $c"
    local in=$1; shift
    [ "$in" = - ] && in=/dev/null
    LXD_CONF=$W/conf-$SIDE "$BIN" "$@" >"$W/$SIDE.$i.out" 2>"$W/$SIDE.$i.err" <"$in"
    echo "[exit $?]" >>"$W/$SIDE.$i.out"
    i=$((i+1))
  done
}
printf 'config:\n  user.a: "1"\ndescription: edited\ndevices: {}\n' >"$W/edit.yaml"
# yaml.v2 error texts: syntax (with and without a line), one and several type errors.
printf 'a: b: c\n' >"$W/bad1.yaml"
printf 'config: [\n' >"$W/bad2.yaml"
printf 'config: 5\n' >"$W/bad3.yaml"
printf 'config:\n  a: {x: 1}\n  b: [2]\n' >"$W/bad4.yaml"
printf 'description: "x\n' >"$W/bad5.yaml"
printf 'description: abcdefghijklmn\nconfig: abcdefghijklmn\n' >"$W/bad6.yaml"
printf 'config:\n  user.p: "1"\ndescription: pool\n' >"$W/pool.yaml"
# Prime both configs (first-run greeting goes to stderr and is compared too).
run - version
run - info
run - profile list
run - profile list --format csv
run - profile list --format json
run - profile list --format yaml
run - profile list --format compact
run - profile show default
run - profile create cmp1
run - profile create cmp1
run - profile set cmp1 limits.memory 256MB
run - profile set cmp1 user.x=1 user.y=2
run - profile set cmp1 bad
run - profile get cmp1 limits.memory
run - profile get cmp1 user.missing
run - profile unset cmp1 user.y
run - profile device add cmp1 root disk path=/ pool=default
run - profile device list cmp1
run - profile device show cmp1
run - profile device get cmp1 root path
run - profile device set cmp1 root size=1GB
run - profile device unset cmp1 root size
run - profile show cmp1
run - profile device remove cmp1 root
run "$W/edit.yaml" profile edit cmp1
run - profile show cmp1
run - profile copy cmp1 cmp2
run - profile rename cmp2 cmp3
run - profile delete cmp3
run - profile rename cmp1 cmp2
run - profile delete cmp2
run - profile delete default
run - profile show nope
run - profile get default
run - profile create
run - profile bogus
run - bogus
run - profile list --bogus
run - config set user.cmp value1
run - config get user.cmp
run - config show
run - config unset user.cmp
run - config set core.nonsense 1
run - config set user.cmp
run - storage list
run - storage list --format csv
run - storage list --format yaml
run - storage show nope
run - operation list
run - operation show nope
run - query /1.0/profiles
run - query --raw /1.0/profiles/default
run - query /1.0/nope
run - query nope
run - remote list
run - remote list --format csv
run - remote get-default
run - remote switch nope
run - remote rename local x
run - alias list
run - alias add ll "profile list"
run - alias list
run - ll --format csv
run - alias rename ll l2
run - alias remove l2
run - alias remove l2
run - storage create cmpp dir
run - storage create cmpp dir
run - storage create cmpq dir bad
run - storage set cmpp user.a 1
run - storage set cmpp user.b=2 user.c=3
run - storage set cmpp bad
run - storage set nope user.a 1
run - storage get cmpp user.a
run - storage get cmpp user.nope
run - storage unset cmpp user.b
run - storage unset cmpp nope.zz
run - storage show cmpp --target x
run - storage info nope
run - storage info cmpp --target x
run "$W/pool.yaml" storage edit cmpp
run - storage show cmpp
for f in bad1 bad2 bad3 bad4 bad5 bad6; do
  run "$W/$f.yaml" storage edit cmpp
  run "$W/$f.yaml" profile edit default
  run "$W/$f.yaml" config edit
done
run - storage delete cmpp
run - storage delete cmpp
run - operation delete nope
run - operation cancel nope
run - query -X POST -d '{"name":"cmpq"}' /1.0/profiles
run - query -X DELETE /1.0/profiles/cmpq --wait
run - query -X POST /1.0/profiles
run - query --wait --raw /1.0/profiles/default
run - --help
run - storage
run - storage --help
run - storage ls -h
run - profile create --help
run - profile device
run - monitor --format=bad --pretty
run - monitor --loglevel=info
SIDE=a BIN=$A play
SIDE=b BIN=$B play
i=0
for c in "${CMDS[@]}"; do
  eval "set -- $c"; shift
  if ! diff -u "$W/a.$i.out" "$W/b.$i.out" >"$W/d" || ! diff -u "$W/a.$i.err" "$W/b.$i.err" >>"$W/d"; then
    echo "DIFF: lxc $*"; cat "$W/d"; fails=$((fails+1))
  else
    echo "same: lxc $*"
  fi
  i=$((i+1))
done
echo "$fails command(s) differ"
exit $((fails > 0))
