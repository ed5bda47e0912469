//! Network port details from the `SIOCETHTOOL` ioctl (permanent address, link state, speed,
//! duplex, port and transceiver types, supported modes) and the card's firmware version.
//!
//! Mirrors LXD's `network_ethtool.go`: `ETHTOOL_GLINKSETTINGS` first, `ETHTOOL_GSET` when that
//! fails. Only reads; the socket is an ordinary `AF_INET` datagram socket.

use std::os::fd::{AsRawFd, OwnedFd};

use lxd_api::resources::ResourcesNetworkCardPort;
use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GSET: u32 = 0x01;
const ETHTOOL_GDRVINFO: u32 = 0x03;
const ETHTOOL_GLINK: u32 = 0x0a;
const ETHTOOL_GPERMADDR: u32 = 0x20;
const ETHTOOL_GLINKSETTINGS: u32 = 0x4c;
/// Room for the three link-mode bitmaps (`SCHAR_MAX` words each), as LXD reserves.
const LINK_MODE_WORDS: usize = 3 * 127;

const MODES: &[(usize, &str)] = &[
    (0, "10baseT/Half"),
    (1, "10baseT/Full"),
    (2, "100baseT/Half"),
    (3, "100baseT/Full"),
    (4, "1000baseT/Half"),
    (5, "1000baseT/Full"),
    (12, "10000baseT/Full"),
    (15, "2500baseX/Full"),
    (17, "1000baseKX/Full"),
    (18, "10000baseKX4/Full"),
    (19, "10000baseKR/Full"),
    (21, "20000baseMLD2/Full"),
    (22, "20000baseKR2/Full"),
    (23, "40000baseKR4/Full"),
    (24, "40000baseCR4/Full"),
    (25, "40000baseSR4/Full"),
    (26, "40000baseLR4/Full"),
    (27, "56000baseKR4/Full"),
    (28, "56000baseCR4/Full"),
    (29, "56000baseSR4/Full"),
    (30, "56000baseLR4/Full"),
    (31, "25000baseCR/Full"),
    (32, "25000baseKR/Full"),
    (33, "25000baseSR/Full"),
    (34, "50000baseCR2/Full"),
    (35, "50000baseKR2/Full"),
    (36, "100000baseKR4/Full"),
    (37, "100000baseSR4/Full"),
    (38, "100000baseCR4/Full"),
    (39, "100000baseLR4_ER4/Full"),
    (40, "50000baseSR2/Full"),
    (41, "1000baseX/Full"),
    (42, "10000baseCR/Full"),
    (43, "10000baseSR/Full"),
    (44, "10000baseLR/Full"),
    (45, "10000baseLRM/Full"),
    (46, "10000baseER/Full"),
    (47, "2500baseT/Full"),
    (48, "5000baseT/Full"),
];

const PORTS: &[(usize, &str)] = &[
    (7, "twisted pair"),
    (8, "AUI"),
    (9, "media-independent"),
    (10, "fibre"),
    (11, "BNC"),
    (16, "backplane"),
];

/// `struct ifreq` with `ifr_data`, padded to the kernel's 40 bytes.
#[repr(C)]
struct IfreqData {
    name: [u8; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _pad: [u8; 16],
}

#[repr(C)]
#[derive(Default)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

#[repr(C)]
struct EthtoolPermAddr {
    cmd: u32,
    size: u32,
    data: [u8; 32],
}

#[repr(C)]
struct EthtoolDrvInfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

#[repr(C)]
#[derive(Default)]
struct EthtoolCmd {
    cmd: u32,
    supported: u32,
    advertising: u32,
    speed: u16,
    duplex: u8,
    port: u8,
    phy_address: u8,
    transceiver: u8,
    autoneg: u8,
    mdio_support: u8,
    maxtxpkt: u32,
    maxrxpkt: u32,
    speed_hi: u16,
    eth_tp_mdix: u8,
    eth_tp_mdix_ctrl: u8,
    lp_advertising: u32,
    reserved: [u32; 2],
}

#[repr(C)]
struct EthtoolLinkSettings {
    cmd: u32,
    speed: u32,
    duplex: u8,
    port: u8,
    phy_address: u8,
    autoneg: u8,
    mdio_support: u8,
    eth_tp_mdix: u8,
    eth_tp_mdix_ctrl: u8,
    link_mode_masks_nwords: i8,
    transceiver: u8,
    master_slave_cfg: u8,
    master_slave_state: u8,
    rate_matching: u8,
    reserved: [u32; 7],
    link_mode_data: [u32; LINK_MODE_WORDS],
}

struct Ethtool {
    sock: OwnedFd,
    name: [u8; libc::IFNAMSIZ],
}

impl Ethtool {
    fn open(interface: &str) -> Option<Self> {
        let sock = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .ok()?;
        let mut name = [0u8; libc::IFNAMSIZ];
        let bytes = interface.as_bytes();
        let len = bytes.len().min(libc::IFNAMSIZ - 1);
        name[..len].copy_from_slice(&bytes[..len]);
        Some(Self { sock, name })
    }

    /// Run one ethtool command; `T` must be the `#[repr(C)]` struct the command expects.
    fn call<T>(&self, request: &mut T) -> Result<(), Errno> {
        let mut ifr = IfreqData {
            name: self.name,
            data: request as *mut T as *mut libc::c_void,
            _pad: [0; 16],
        };
        // SAFETY: `ifr` is a properly sized `struct ifreq` whose data pointer refers to
        // `request`, a live `#[repr(C)]` ethtool structure matching its `cmd` and large enough
        // for what the kernel writes back; both outlive the call.
        let ret = unsafe { libc::ioctl(self.sock.as_raw_fd(), SIOCETHTOOL as _, &mut ifr) };
        if ret < 0 {
            Err(Errno::last())
        } else {
            Ok(())
        }
    }
}

fn port_type(code: u8) -> Option<&'static str> {
    Some(match code {
        0x00 => "twisted pair",
        0x01 => "AUI",
        0x02 => "media-independent",
        0x03 => "fibre",
        0x04 => "BNC",
        0x05 => "direct attach",
        0xef => "none",
        0xff => "other",
        _ => return None,
    })
}

fn transceiver_type(code: u8) -> Option<&'static str> {
    match code {
        0x00 => Some("internal"),
        0x01 => Some("external"),
        _ => None,
    }
}

fn names_of(bits: impl Fn(usize) -> bool, table: &[(usize, &str)]) -> Vec<String> {
    table
        .iter()
        .filter(|(bit, _)| bits(*bit))
        .map(|(_, name)| name.to_string())
        .collect()
}

fn apply_common(info: &mut ResourcesNetworkCardPort, autoneg: u8, duplex: u8, port: u8, xcvr: u8) {
    info.auto_negotiation = autoneg == 1;
    if info.link_detected {
        match duplex {
            0x00 => info.link_duplex = "half".into(),
            0x01 => info.link_duplex = "full".into(),
            _ => {}
        }
    }
    if let Some(kind) = transceiver_type(xcvr) {
        info.transceiver_type = kind.into();
    }
    if let Some(kind) = port_type(port) {
        info.port_type = kind.into();
    }
}

fn link_settings(tool: &Ethtool, info: &mut ResourcesNetworkCardPort) -> Result<(), Errno> {
    // SAFETY: EthtoolLinkSettings is plain old data (integers and arrays); all-zero is valid.
    let mut settings: Box<EthtoolLinkSettings> = Box::new(unsafe { std::mem::zeroed() });
    settings.cmd = ETHTOOL_GLINKSETTINGS;
    tool.call(settings.as_mut())?;
    if settings.link_mode_masks_nwords >= 0 || settings.cmd != ETHTOOL_GLINKSETTINGS {
        return Err(Errno::EINVAL);
    }
    settings.link_mode_masks_nwords = -settings.link_mode_masks_nwords;
    tool.call(settings.as_mut())?;
    if settings.link_mode_masks_nwords <= 0 || settings.cmd != ETHTOOL_GLINKSETTINGS {
        return Err(Errno::EINVAL);
    }
    apply_common(
        info,
        settings.autoneg,
        settings.duplex,
        settings.port,
        settings.transceiver,
    );
    if info.link_detected && settings.speed < u32::MAX {
        info.link_speed = u64::from(settings.speed);
    }
    // The supported bitmap is the first `nwords` words.
    let words = settings.link_mode_masks_nwords as usize;
    let supported = &settings.link_mode_data[..words.min(LINK_MODE_WORDS)];
    let has = |bit: usize| {
        supported
            .get(bit / 32)
            .is_some_and(|w| w & (1 << (bit % 32)) != 0)
    };
    info.supported_modes = names_of(has, MODES);
    info.supported_ports = names_of(has, PORTS);
    Ok(())
}

fn legacy_settings(tool: &Ethtool, info: &mut ResourcesNetworkCardPort) -> Result<(), Errno> {
    let mut cmd = EthtoolCmd {
        cmd: ETHTOOL_GSET,
        ..Default::default()
    };
    match tool.call(&mut cmd) {
        Err(Errno::EOPNOTSUPP) | Err(Errno::ENODEV) => return Ok(()),
        other => other?,
    }
    apply_common(info, cmd.autoneg, cmd.duplex, cmd.port, cmd.transceiver);
    if info.link_detected {
        let speed = (u64::from(cmd.speed_hi) << 16) | u64::from(cmd.speed);
        if speed != 65535 && speed != 4_294_967_295 {
            info.link_speed = speed;
        }
    }
    let has = |bit: usize| bit < 32 && cmd.supported & (1 << bit) != 0;
    info.supported_modes = names_of(has, MODES);
    info.supported_ports = names_of(has, PORTS);
    Ok(())
}

/// Fill a port from ethtool; `Err` (the port is then left out, as in LXD) when the link state
/// cannot be read or both settings commands fail.
pub(super) fn add_port_info(info: &mut ResourcesNetworkCardPort) -> Result<(), Errno> {
    let tool = Ethtool::open(&info.id).ok_or(Errno::EBADF)?;
    let mut perm = EthtoolPermAddr {
        cmd: ETHTOOL_GPERMADDR,
        size: 32,
        data: [0; 32],
    };
    if tool.call(&mut perm).is_ok() {
        let len = (perm.size as usize).min(perm.data.len());
        info.address = perm.data[..len]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
    }
    let mut link = EthtoolValue {
        cmd: ETHTOOL_GLINK,
        data: 0,
    };
    tool.call(&mut link)?;
    info.link_detected = link.data == 1;
    if link_settings(&tool, info).is_err() {
        legacy_settings(&tool, info)?;
    }
    Ok(())
}

/// The firmware version of the card owning `interface`.
pub(super) fn firmware_version(interface: &str) -> Result<String, Errno> {
    let tool = Ethtool::open(interface).ok_or(Errno::EBADF)?;
    // SAFETY: EthtoolDrvInfo is plain old data (integers and byte arrays); all-zero is valid.
    let mut drvinfo: EthtoolDrvInfo = unsafe { std::mem::zeroed() };
    drvinfo.cmd = ETHTOOL_GDRVINFO;
    tool.call(&mut drvinfo)?;
    let end = drvinfo
        .fw_version
        .iter()
        .position(|b| *b == 0)
        .unwrap_or(drvinfo.fw_version.len());
    Ok(String::from_utf8_lossy(&drvinfo.fw_version[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethtool_struct_sizes_match_kernel_abi() {
        assert_eq!(std::mem::size_of::<IfreqData>(), 40);
        assert_eq!(std::mem::size_of::<EthtoolCmd>(), 44);
        assert_eq!(std::mem::size_of::<EthtoolDrvInfo>(), 196);
        assert_eq!(
            std::mem::size_of::<EthtoolLinkSettings>(),
            48 + 4 * LINK_MODE_WORDS
        );
    }

    #[test]
    fn apply_common_virtio_other_internal_no_duplex_when_down() {
        let mut info = ResourcesNetworkCardPort::default();
        apply_common(&mut info, 0, 0xff, 0xff, 0x00);
        assert_eq!(info.port_type, "other");
        assert_eq!(info.transceiver_type, "internal");
        assert!(info.link_duplex.is_empty());
        assert!(!info.auto_negotiation);
    }

    #[test]
    fn add_port_info_missing_interface_error() {
        let mut info = ResourcesNetworkCardPort {
            id: "lxdsysnone0".into(),
            ..Default::default()
        };
        assert!(add_port_info(&mut info).is_err());
    }
}
