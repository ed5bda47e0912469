//! Root tier: a veth pair whose peer is created in a fresh network namespace, named, addressed
//! and up; its state read from inside; both ends gone after the host end is deleted.

use std::fs::File;

use lxd_network::netlink::RtSocket;
use lxd_network::{interfaces, link, names, netns};

/// A new network namespace, held open by the returned file.
fn fresh_netns() -> File {
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        File::open(format!("/proc/self/task/{}/ns/net", nix::unistd::gettid())).unwrap()
    })
    .join()
    .unwrap()
}

#[test]
fn veth_peer_in_netns_is_named_addressed_up_and_removed_with_host_end() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = fresh_netns();
    let host = names::random_dev_name("vtst");
    let mac = "00:16:3e:12:34:56";
    let mut sock = RtSocket::open().unwrap();
    link::create_veth(
        &mut sock,
        &link::VethPair {
            host_name: &host,
            peer_name: "eth7",
            mtu: Some(1400),
            peer_hwaddr: names::parse_mac(mac),
            peer_netns: Some(std::os::fd::AsFd::as_fd(&ns)),
        },
    )
    .unwrap();
    let host_link = link::get(&mut sock, &host)
        .unwrap()
        .expect("host end exists");
    assert_eq!(link::mtu(&host_link), Some(1400));
    assert!(
        link::get(&mut sock, "eth7").unwrap().is_none(),
        "the peer was created on the host"
    );
    let inside = netns::run_in(ns.try_clone().unwrap(), || {
        let mut sock = RtSocket::open().unwrap();
        link::set_up(&mut sock, "eth7").unwrap();
        interfaces::list(&mut sock).unwrap()
    })
    .unwrap();
    let eth7 = inside.get("eth7").expect("peer inside the namespace");
    assert_eq!(eth7.hwaddr, mac);
    assert_eq!(eth7.mtu, 1400);
    assert_eq!(eth7.state, "up");
    assert_eq!(eth7.kind, "broadcast");
    assert_eq!(inside["lo"].kind, "loopback");

    assert!(link::delete(&mut sock, &host).unwrap());
    assert!(
        !link::delete(&mut sock, &host).unwrap(),
        "second delete is a no-op"
    );
    let after = netns::run_in(ns, || {
        let mut sock = RtSocket::open().unwrap();
        interfaces::list(&mut sock).unwrap()
    })
    .unwrap();
    assert!(!after.contains_key("eth7"), "peer left behind: {after:?}");
}
