//! Unit tests of the CRIU arguments and the notes beside the images.

use std::path::Path;

use nix::unistd::Pid;

use super::*;
use crate::container::spec::NicSpec;

#[test]
fn tty_keys_are_hexadecimal_device_numbers() {
    // /dev/pts/0 (136:0) on a devpts whose st_dev is 22, as CRIU prints it.
    assert_eq!(tty_key(0x8800, 22), "tty[8800:16]");
}

#[test]
fn labels_lose_their_mode_and_unconfined_is_none() {
    assert_eq!(
        label_of("lxd-c1_</var/lib/lxd>//&:lxd-c1_<var-lib-lxd>:unconfined (enforce)\n").as_deref(),
        Some("lxd-c1_</var/lib/lxd>//&:lxd-c1_<var-lib-lxd>:unconfined")
    );
    assert_eq!(label_of("unconfined\n"), None);
    assert_eq!(label_of("lxd-c1 (complain)").as_deref(), Some("lxd-c1"));
}

#[test]
fn exec_labels_match_what_processes_show() {
    let exec = "lxd-c1_</var/lib/lxd>//&:lxd-c1_<var-lib-lxd>:";
    assert!(same_label(&format!("{exec}unconfined"), exec));
    assert!(same_label("lxd-c1_</x>", "lxd-c1_</x>"));
    assert!(!same_label("lxd-c1_</x>", exec));
    assert!(!same_label(
        "lxd-c1_</var/lib/lxd2>//&:lxd-c1_<var-lib-lxd2>:unconfined",
        exec
    ));
}

#[test]
fn namespaces_come_from_stacked_labels() {
    let label = "lxd-c1_</var/lib/lxd>//&:lxd-c1_<var-lib-lxd>:unconfined";
    assert_eq!(label_namespace(label), Some("lxd-c1_<var-lib-lxd>"));
    assert_eq!(label_namespace("lxd-c1_</var/lib/lxd>"), None);
}

#[test]
fn dump_and_restore_agree_on_the_console() {
    let dump = dump_args(Pid::from_raw(42), Path::new("/d"), "tty[8800:16]");
    let joined = dump.join(" ");
    assert!(joined.starts_with("dump --tree 42 --images-dir /d"));
    assert!(joined.contains("--external tty[8800:16] --external mnt[/dev/console]:console"));
    let restore = restore_args(&RestoreInputs {
        dir: Path::new("/d"),
        root: Path::new("/r"),
        console_key: "tty[8800:16]",
        console_path: Path::new("/dev/pts/3"),
        cgroup: Some("/lxc.payload.c1"),
        lsm_profile: None,
        nics: &[
            NicSpec {
                device: "eth0".into(),
                host_name: "veth1234".into(),
                name: "eth0".into(),
                hwaddr: None,
                mtu: None,
                bridge: Some("br0".into()),
            },
            NicSpec {
                device: "p".into(),
                host_name: "vethp".into(),
                name: "eth1".into(),
                hwaddr: None,
                mtu: None,
                bridge: None,
            },
        ],
        pidfile: Path::new("/p"),
    });
    let joined = restore.join(" ");
    assert!(joined.contains("--inherit-fd fd[0]:tty[8800:16]"));
    assert!(joined.contains("--external mnt[console]:/dev/pts/3"));
    assert!(joined.contains("--root /r"));
    assert!(joined.contains("--cgroup-root /lxc.payload.c1"));
    assert!(joined.contains("--external veth[eth0]:veth1234@br0"));
    assert!(joined.contains("--external veth[eth1]:vethp "));
    assert!(!joined.contains("--lsm-profile"));
    // The cgroups are handled the same way on both sides.
    assert!(dump.contains(&"--manage-cgroups=soft".to_string()));
    assert!(restore.contains(&"--manage-cgroups=soft".to_string()));
}

#[test]
fn log_summaries_keep_criu_errors() {
    let log = "(00.1) Version: 3.17.1\n(00.2) Error (criu/tty.c:10): tty: no peer\n\
               (00.25) Error (criu/util.c:642): exited, status=1\n\
               (00.3) Error (criu/cr-dump.c:2053): Dumping FAILED.\n";
    assert_eq!(log_summary(log), "tty: no peer; Dumping FAILED.");
    assert_eq!(log_summary("a\nb\n\nc\nd\n"), "b; c; d");
}
