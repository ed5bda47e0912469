# Shared by the compatibility scripts beside this file (sourced, not run). The caller defines
# W (a scratch directory) and PIDS (an array collecting the daemons it starts).

# start NAME BINARY: run a daemon on $W/NAME and wait until it answers.
start() {
  local d=$W/$1; mkdir -p "$d"; chmod 755 "$d"
  LXD_DIR=$d "$2" --group root --logfile "$d/lxd.log" >"$d/out.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    curl -sf --unix-socket "$d/unix.socket" http://x/1.0 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL: $1 daemon did not start: $(tail -3 "$d/lxd.log" "$d/out.log")"; exit 1
}

# make_busybox_image OUT: a unified image whose /sbin/init is a static busybox.
make_busybox_image() {
  local out=$1 d; d=$(mktemp -d "$W/bb.XXXX")
  mkdir -p "$d/rootfs"/{bin,sbin,etc,dev,proc,sys,tmp,root,run}
  cp /bin/busybox "$d/rootfs/bin/busybox"
  ln -sf ../bin/busybox "$d/rootfs/sbin/init"
  for a in $(/bin/busybox --list); do
    [ -e "$d/rootfs/bin/$a" ] || ln -s busybox "$d/rootfs/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$d/rootfs/etc/passwd"
  printf 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: BusyBox compat image\n  os: BusyBox\n' >"$d/metadata.yaml"
  tar -C "$d" -czf "$out" metadata.yaml rootfs
}
