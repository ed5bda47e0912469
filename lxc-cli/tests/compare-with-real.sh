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
play() { # play <side> <binary>  (in its own working directory, for exports)
  local i=0 c
  mkdir -p "$W/cwd-$SIDE"; cd "$W/cwd-$SIDE" || exit 1
  for c in "${CMDS[@]}"; do
    eval "set -- $c"
    local in=$1; shift
    [ "$in" = - ] && in=/dev/null
    LXD_CONF=$W/conf-$SIDE "$BIN" "$@" >"$W/$SIDE.$i.out" 2>"$W/$SIDE.$i.err" <"$in"
    echo "[exit $?]" >>"$W/$SIDE.$i.out"
    i=$((i+1))
  done
  cd "$W" || exit 1
}
# normalize <file>: masks what legitimately differs between two runs: upload times, progress
# lines (speeds), and the order of `image info` properties (lxc walks a Go map).
normalize() {
  perl -0777 -pe 's/\r(Exporting the image|Transferring image|Refreshing the image|Importing instance|Exporting the backup|Backing up instance|Transferring instance|Publishing instance|Pushing [^\r\n:]*|Pulling [^\r\n:]*): [^\r\n]*//g; s/\r +(?=\r)//g;
    s/"uploaded_at":"[^"]*"/"uploaded_at":"X"/g; s/^(\s*-?\s*uploaded_at:) .*/$1 X/mg; s/^(    Uploaded:) .*/$1 X/mg;
    s/^(Properties:\n)((?:    .*\n)*)/$1 . join("", sort split(m{(?<=\n)}, $2))/me;
    s/^[^\n]*\r//mg; s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g;
    s{\d{4}/\d\d/\d\d \d\d:\d\d}{DATE}g; s/\d{4}-\d\d-\d\dT[\d:.]+Z/TIME/g;
    s/^((?:PID|  Processes|    CPU usage \(in seconds\)|    Memory \((?:current|peak)\)|    Swap \((?:current|peak)\)):) .*/$1 X/mg;
    s/"(pid|processes|usage|usage_peak|swap_usage|swap_usage_peak)":\d+/"$1":0/g;
    s/^(\s*(?:pid|processes|usage|usage_peak|swap_usage|swap_usage_peak):) \d+/$1 0/mg;
    s/^(lxc \S+ )\d+\.\d+ .*/$1LOG/mg; s/\b[0-9a-f]{64}\b/FP/g' "$1"
}
# A busybox image, unified and split (metadata tarball + squashfs), with fixed dates so both
# clients import the same fingerprints.
mkimages() {
  local d=$W/img; mkdir -p "$d/rootfs/bin" "$d/rootfs/sbin" "$d/rootfs/etc"
  cp /bin/busybox "$d/rootfs/bin/busybox"; ln -sf ../bin/busybox "$d/rootfs/sbin/init"
  printf 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: BusyBox test image\n  os: BusyBox\n' >"$d/metadata.yaml"
  tar -C "$d" --mtime=@1700000000 --owner=0 --group=0 -czf "$W/bb.tar.gz" metadata.yaml rootfs
  tar -C "$d" --mtime=@1700000000 --owner=0 --group=0 -cJf "$W/meta.tar.xz" metadata.yaml
  mksquashfs "$d/rootfs" "$W/bb.squashfs" -noappend -all-root -quiet >/dev/null 2>&1
}
mkimages
# A bootable busybox image for instances (applet links, an inittab that keeps init busy).
mkinstimage() {
  local d=$W/inst; mkdir -p "$d/rootfs"/{bin,sbin,etc,dev,proc,sys,tmp,root,run}
  cp /bin/busybox "$d/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$d/rootfs/bin/$a"; done
  ln -sf ../bin/busybox "$d/rootfs/sbin/init"
  printf '::sysinit:/bin/mount -a\n::respawn:/bin/sleep 1000000\n' >"$d/rootfs/etc/inittab"
  echo "root:x:0:0:root:/root:/bin/sh" >"$d/rootfs/etc/passwd"; echo "root:x:0:" >"$d/rootfs/etc/group"
  touch "$d/rootfs/etc/fstab"
  printf 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: BusyBox instance image\n  os: BusyBox\n' >"$d/metadata.yaml"
  tar -C "$d" --mtime=@1700000000 --owner=0 --group=0 -czf "$W/inst.tar.gz" metadata.yaml rootfs
}
mkinstimage
printf 'line1\nline2\n' >"$W/stdin.txt"
printf 'config:\n  user.e: "1"\ndescription: edited\ndevices: {}\nprofiles:\n- default\n' >"$W/inst-edit.yaml"
FP6=$(sha256sum "$W/bb.tar.gz" | cut -c1-6)
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
printf 'auto_update: false\nproperties:\n  os: Edited\n  user.e: "1"\npublic: false\nexpires_at: 1970-01-01T00:00:00Z\nprofiles:\n- default\n' >"$W/imgedit.yaml"
run - image import "$W/bb.tar.gz" --alias cmp-bb --alias cmp-b2 user.x=1
run - image import "$W/bb.tar.gz"
run - image import "$W/nope.tar.gz"
run - image import "$W/meta.tar.xz" "$W/bb.squashfs" --alias cmp-split --public os=Split
run - image list cmp- -c lfpdast
run - image list cmp- -c lLfFpdast -f csv
run - image list cmp- -f json
run - image list cmp- -f yaml
run - image list cmp- -f compact -c lfd
run - image list cmp- os=BusyBox -c lf
run - image list cmp- 'os=Bus.*' user.x=1 -c lf
run - image list cmp- os=Nope -c lf
run - image list -c x
run - image list -c l,,f
run - image list -f bad cmp-
run - image info cmp-bb
run - image info cmp-split
run - image info nope
run - image info "$FP6"
run - image show cmp-bb
run - image show nope
run - image get-property cmp-bb os
run - image get-property cmp-bb nope
run - image set-property cmp-bb user.y 2
run - image unset-property cmp-bb user.y
run - image unset-property cmp-bb user.zz
run - image show cmp-bb
run "$W/imgedit.yaml" image edit cmp-bb
run - image show cmp-bb
run "$W/bad1.yaml" image edit cmp-bb
run - image alias create cmp-bb "$FP6"
run - image alias create cmp-c3 cmp-bb
run - image alias create cmp-c4 nope
run - image alias list cmp-
run - image alias list cmp- -f csv
run - image alias rename cmp-c3 cmp-c5
run - image alias rename cmp-nope x
run - image alias delete cmp-c5
run - image alias delete cmp-nope
run - image alias list cmp-c
run - image export cmp-bb
run - image export cmp-bb out1
run - image export cmp-split
run - image export cmp-split named
run - image export cmp-bb sub/x
run - image export nope
run - image refresh cmp-bb
run - image delete cmp-bb cmp-split
run - image delete cmp-bb
run - image delete local:
run - image edit local:
run - image import "$W/bb.tar.gz" -q --alias cmp-q
run - image list cmp-q -c lf
run - image rm cmp-q
run - image
run - image --help
run - image alias
run - image list --help
run - image ls -h
run - image alias rm --help
run - image import
run - image info
run - image alias create x
# Instances: init/launch, state changes, list (columns, filters, formats), info, exec,
# config and devices, profiles on instances, rename, delete. Everything created is deleted.
run - image import "$W/inst.tar.gz" --alias cmp-inst -q
run - init cmp-inst cmp-c1
run - launch cmp-inst cmp-c2
run - launch cmp-inst cmp-c2
run - launch nosuchimage cmp-c9
run - init cmp-inst cmp-c3 -c user.a=1 -e -p default -s default -d root,size=1GB
run - init cmp-inst cmp-c4 --no-profiles
run - init cmp-inst cmp-c5 -d nosuch,a=b
run - init cmp-inst cmp-c5 -c bad
run - list
run - list --fast
run - list -c nsaPbcldfFe
run - list -c ns,user.a:UA,volatile.base_image:BI:6,devices:root.size
run - list -c L
run - list -c x
run - list -c ,n
run - list -c foo.bar
run - list --fast -c n
run - list -f csv
run - list -f compact
run - list -f json -c n
run - list -f yaml -c n
run - list -f json
run - list -f yaml
run - list -f bogus
run - list cmp-c
run - list cmp-c1
run - list status=running
run - list status=running,stopped
run - list type=container
run - list u.a=1
run - list ^cmp-c[23]$
run - start cmp-c1
run - start cmp-c1
run - pause cmp-c1
run - list cmp-c1 -c ns
run - start cmp-c1
run - restart cmp-c1 --force
run - stop cmp-c1 --timeout 1 --force
run - start cmp-c1
run - stop cmp-c1 cmp-c2 --force
run - start cmp-c2
run - stop nosuch
run - start
run - info cmp-c2
run - info cmp-c1
run - info nosuch
run - info cmp-c2 --target x
run - exec cmp-c2 -- sh -c "echo out; echo err >&2; exit 3"
run - exec cmp-c2 -- /nonexistent
run - exec cmp-c2 --env A=B --cwd /tmp -- sh -c "pwd; echo \$A"
run - exec cmp-c2 --user 1000 --group 1000 -- id
run - exec cmp-c2 -n -- cat
run - exec cmp-c2 -T -- tty
run - exec cmp-c2 -t -T -- true
run - exec cmp-c2 --mode interactive -t -- true
run - exec cmp-c2 -- sh -c "kill -9 \$\$"
run "$W/stdin.txt" exec cmp-c2 -- cat
run "$W/stdin.txt" exec cmp-c2 -- wc -c
run - exec cmp-c3 -- true
run - exec nosuch -- true
run - exec cmp-c2
run - config show cmp-c1
run - config show cmp-c1 -e
run - config get cmp-c1 image.os
run - config get cmp-c1 image.os -e
run - config set cmp-c1 user.a 1
run - config set cmp-c1 user.b=2 user.c=3
run - config set cmp-c1 limits.memory banana
run - config set cmp-c1 bad
run - config unset cmp-c1 user.a
run - config unset cmp-c1 user.zzz
run "$W/inst-edit.yaml" config edit cmp-c1
run - config show cmp-c1
run - config device add cmp-c1 d1 disk source=/tmp path=/mnt/x
run - config device add cmp-c1 d1 disk source=/tmp path=/mnt/x
run - config device add cmp-c1 d2 none
run - config device add cmp-c1 d3 disk bad
run - config device list cmp-c1
run - config device show cmp-c1
run - config device get cmp-c1 d1 path
run - config device get cmp-c1 root path
run - config device get cmp-c1 zz path
run - config device set cmp-c1 d1 readonly=true
run - config device set cmp-c1 root size=1GB
run - config device unset cmp-c1 d1 readonly
run - config device override cmp-c1 root size=2GB
run - config device override cmp-c1 zz
run - config device remove cmp-c1 d1 d2
run - config device remove cmp-c1 zz
run - config show cmp-c1 --expanded
run - profile add cmp-c1 default
run - profile remove cmp-c1 nosuch
run - profile assign cmp-c1 ""
run - profile assign cmp-c1 default
run - profile remove cmp-c1 default
run - profile add cmp-c1 default
run - rename cmp-c1 cmp-c6
run - rename cmp-c6 other:cmp-c1
run - rename cmp-c6 cmp-c1
run - delete cmp-c2
run - delete -f cmp-c2 cmp-c1
run - delete cmp-c3 cmp-c4
run - delete cmp-c5
run - delete -f cmp-c3
run - delete -f cmp-c4
run - delete cmp-c9
run - delete
run - list -c n
run - image delete cmp-inst
run - init --help
run - launch --help
run - start --help
run - stop --help
run - restart --help
run - pause --help
run - rm --help
run - ls --help
run - exec --help
run - rename --help
run - config device
run - config device override --help
run - profile apply --help
run - profile remove --help
[ "${ONLY_TRANSFER:-}" = 1 ] && CMDS=()
. "$(dirname "$0")/compare-transfer.sh"
SIDE=a BIN=$A play
SIDE=b BIN=$B play
i=0
for c in "${CMDS[@]}"; do
  eval "set -- $c"; shift
  for f in a.$i.out b.$i.out a.$i.err b.$i.err; do normalize "$W/$f" >"$W/$f.n"; done
  if ! diff -u "$W/a.$i.out.n" "$W/b.$i.out.n" >"$W/d" || ! diff -u "$W/a.$i.err.n" "$W/b.$i.err.n" >>"$W/d"; then
    echo "DIFF: lxc $*"; cat "$W/d"; fails=$((fails+1))
  else
    echo "same: lxc $*"
  fi
  i=$((i+1))
done
# Exported files: same names, same bytes.
if ! diff <(cd "$W/cwd-a" && find . -type f | sort | xargs sha256sum) \
          <(cd "$W/cwd-b" && find . -type f | sort | xargs sha256sum); then
  echo "DIFF: exported files"; fails=$((fails+1))
else
  echo "same: exported files"
fi
echo "$fails command(s) differ"
exit $((fails > 0))
