%# The AppArmor profile of one system container, rendered by crates/lxd-runtime/src/apparmor.
%# The rules are LXD 5.0.2's container rules; the notation is this project's own:
%#   %# ...                      a template comment, dropped
%#   %if FLAG / %if !FLAG       a section kept when FLAG is set (or unset), to %else / %end;
%#                              flags: unix cgns cgroup2 stacking nesting unprivileged raw
%#   %paths-except P...         the lines up to %end, once per glob that matches every
%#                              absolute path except P and what is below it; {{path}} is the glob
%#   %deny-writes-under ROOT except E...
%#                              deny writes to everything below ROOT but E: a plain E keeps its
%#                              subtree, `E*` keeps the names but not what is below them, `E**`
%#                              leaves the whole prefix to other rules
%#   %raw                       the instance's raw.apparmor, each line indented
%#   {{name}} {{namespace}}     the profile's name, the container's AppArmor namespace
#include <tunables/global>
profile "{{name}}" flags=(attach_disconnected,mediate_deleted) {
  ### Base profile
  capability,
  dbus,
  file,
  network,
  umount,

  # Refused read-only remounts of the root are expected; do not log them
  deny mount options=(ro,remount) -> /,
  deny mount options=(ro,remount,silent) -> /,

  # Signals within the container
  signal (receive),
  signal peer=@{profile_name},

  # Tracing within the container
  ptrace (readby),
  ptrace (tracedby),
  ptrace peer=@{profile_name},

  # binfmt_misc may be mounted, not used
  mount fstype=binfmt_misc -> /proc/sys/fs/binfmt_misc/,
  deny /proc/sys/fs/binfmt_misc/{,**} rwklx,

  # The cgroup tree may be remounted read-only
  mount options=(ro,nosuid,nodev,noexec,remount,strictatime) -> /sys/fs/cgroup/,

  # Kernel filesystems that may be mounted but stay out of reach
  mount fstype=configfs -> /sys/kernel/config/,
  deny /sys/kernel/config/{,**} rwklx,
  mount fstype=debugfs -> /sys/kernel/debug/,
  deny /sys/kernel/debug/{,**} rwklx,
  mount fstype=efivarfs -> /sys/firmware/efi/efivars/,
  deny /sys/firmware/efi/efivars/{,**} rwklx,
  mount fstype=tracefs -> /sys/kernel/tracing/,
  deny /sys/kernel/tracing/{,**} rwklx,

  # FUSE filesystems
  mount fstype=fuse,
  mount fstype=fuse.*,
  mount fstype=fusectl -> /sys/fs/fuse/connections/,

  # Memory and IPC filesystems
  mount fstype=hugetlbfs,
  mount fstype=mqueue,
  mount fstype=ramfs,
  mount fstype=tmpfs,

  # procfs, without the host-wide knobs
  mount fstype=proc -> /proc/,
  deny /proc/bus/** wklx,
  deny /proc/kcore rwklx,
  deny /proc/sysrq-trigger rwklx,
  deny /proc/acpi/** rwklx,
  deny /proc/sys/fs/** wklx,

  # securityfs may be mounted (what may be written there follows below)
  mount fstype=securityfs -> /sys/kernel/security/,

  # sysfs (what may be written there follows below)
  mount fstype=sysfs -> /sys/,
  mount options=(rw,nosuid,nodev,noexec,remount) -> /sys/,

  # /run may be remounted
  mount options=(rw,nosuid,nodev,remount) -> /run/,

  # Mount propagation of the root
  mount options=(rw,slave) -> /,
  mount options=(rw,rslave) -> /,
  mount options=(rw,shared) -> /,
  mount options=(rw,rshared) -> /,
  mount options=(rw,private) -> /,
  mount options=(rw,rprivate) -> /,
  mount options=(rw,unbindable) -> /,
  mount options=(rw,runbindable) -> /,

  # Read-only bind remounts of anything but /proc, /sys and /dev/.lxc
%paths-except /proc /sys /dev/.lxc
  mount options=(ro,remount,bind) {{path}},
  mount options=(ro,remount,bind,nodev) {{path}},
  mount options=(ro,remount,bind,noexec) {{path}},
  mount options=(ro,remount,bind,noexec,nodev) {{path}},
  mount options=(ro,remount,bind,noatime) {{path}},
  mount options=(ro,remount,bind,nosuid) {{path}},
  mount options=(ro,remount,bind,nosuid,nodev) {{path}},
  mount options=(ro,remount,bind,nosuid,noexec) {{path}},
  mount options=(ro,remount,bind,nosuid,noexec,nodev) {{path}},
  mount options=(ro,remount,bind,nosuid,noexec,strictatime) {{path}},
%end

  # Bind mounts of anything but /proc, /sys and /dev/.lxc
%paths-except /proc /sys /dev/.lxc
  mount options=(rw,bind) {{path}},
%end

  # Recursive bind mounts of anything but /, /dev, /proc and /sys
%paths-except /dev /proc /sys
  mount options=(rw,rbind) {{path}},
%end

  # Moving mounts of anything but /proc, /sys and /dev/.lxc
%paths-except /proc /sys /dev/.lxc
  mount options=(rw,move) {{path}},
%end

  # /proc/sys is read-only but for the namespaced kernel settings and the network
%deny-writes-under /proc/sys/ except /proc/sys/kernel/domainname /proc/sys/kernel/hostname /proc/sys/kernel/msg* /proc/sys/kernel/sem* /proc/sys/kernel/shm* /proc/sys/net

  # /sys is read-only but for network devices, cgroups and bpf (/sys/kernel follows below)
%deny-writes-under /sys/ except /sys/class/net /sys/devices/virtual/net /sys/fs/bpf /sys/fs/cgroup /sys/k**
%if unix

  ### Feature: unix
  # Unix sockets: receive from anyone, anything within the container
  unix (receive),
  unix peer=(label=@{profile_name}),
%end
%if cgns

  ### Feature: cgroup namespace
  mount fstype=cgroup -> /sys/fs/cgroup/**,
%if cgroup2
  mount fstype=cgroup2 -> /sys/fs/cgroup/**,
%end
%end
%if stacking

  ### Feature: apparmor stacking
  # /sys/kernel is read-only but for the container's own AppArmor namespace
%deny-writes-under /sys/k except /sys/kernel/security/apparmor

  change_profile -> ":{{namespace}}:*",
  change_profile -> ":{{namespace}}://*",
%else

  ### Feature: apparmor stacking (not present)
  deny /sys/k*{,/**} wklx,
%end
%if nesting

  ### Configuration: nesting
  pivot_root,

  # Signals and tracing into nested containers
  ptrace,
  signal,

  # The hidden proc and sys mounts of a nested liblxc
  deny /dev/.lxc/proc/** rw,
  deny /dev/.lxc/sys/** rw,

  # proc and sysfs for nested liblxc
  mount fstype=proc -> /usr/lib/*/lxc/**,
  mount fstype=sysfs -> /usr/lib/*/lxc/**,

  # The shared mounts of a nested LXD
  mount none -> /var/lib/lxd/shmounts/,
  mount /var/lib/lxd/shmounts/ -> /var/lib/lxd/shmounts/,
  mount options=bind /var/lib/lxd/shmounts/** -> /var/lib/lxd/**,

  # A nested container remounts its proc/sys with flag sets no mount rule can name, so every
  # mount is allowed
  mount,
%if !stacking
  change_profile -> "{{name}}",
%end
%end
%if unprivileged

  ### Configuration: unprivileged containers
  pivot_root,

  # Mount propagation anywhere
  mount options=(rw,slave) -> **,
  mount options=(rw,rslave) -> **,
  mount options=(rw,shared) -> **,
  mount options=(rw,rshared) -> **,
  mount options=(rw,private) -> **,
  mount options=(rw,rprivate) -> **,
  mount options=(rw,unbindable) -> **,
  mount options=(rw,runbindable) -> **,

  # Any bind mount
  mount options=(rw,bind) / -> /**,
  mount options=(rw,bind) /** -> /**,
  mount options=(rw,rbind) / -> /**,
  mount options=(rw,rbind) /** -> /**,

  # Read-only bind remounts with the usual flags (the parser makes these match any target)
  mount options=(ro,remount,bind),
  mount options=(ro,remount,bind,nodev),
  mount options=(ro,remount,bind,nodev,nosuid),
  mount options=(ro,remount,bind,noexec),
  mount options=(ro,remount,bind,noexec,nodev),
  mount options=(ro,remount,bind,nosuid),
  mount options=(ro,remount,bind,nosuid,nodev),
  mount options=(ro,remount,bind,nosuid,noexec),
  mount options=(ro,remount,bind,nosuid,noexec,nodev),
  mount options=(ro,remount,bind,noatime),
  mount options=(ro,remount,bind,noatime,nodev),
  mount options=(ro,remount,bind,noatime,noexec),
  mount options=(ro,remount,bind,noatime,nosuid),
  mount options=(ro,remount,bind,noatime,noexec,nodev),
  mount options=(ro,remount,bind,noatime,nosuid,nodev),
  mount options=(ro,remount,bind,noatime,nosuid,noexec),
  mount options=(ro,remount,bind,noatime,nosuid,noexec,nodev),
  mount options=(ro,remount,bind,nosuid,noexec,strictatime),
  mount options=(ro,remount,nosuid,noexec,strictatime),

  # Read-only remounts of anything
  mount options=(ro,remount) /,
  mount options=(ro,remount) /**,
%end
%if raw

  ### Configuration: raw.apparmor
%raw
%end
}
