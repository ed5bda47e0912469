//! The SMBIOS table (`/sys/firmware/dmi/tables/DMI`), used only for the processor vendor and
//! model when `/proc/cpuinfo` lacks them (e.g. on arm64 servers).

use crate::paths::HostPaths;

const PROCESSOR_TYPE: u8 = 4;

/// `(vendor, model)` from the first processor structure having both strings.
pub(super) fn processor_identity(paths: &HostPaths) -> Option<(String, String)> {
    let table = std::fs::read(paths.sys_path("firmware/dmi/tables/DMI")).ok()?;
    parse_processor_identity(&table)
}

/// Walk the structures: a 4-byte header (type, length, handle), the formatted area, then a
/// string set ended by two NULs. As in LXD, the structure's second and third strings are the
/// manufacturer and version.
fn parse_processor_identity(table: &[u8]) -> Option<(String, String)> {
    let mut offset = 0;
    while offset + 4 <= table.len() {
        let kind = table[offset];
        let length = table[offset + 1] as usize;
        if length < 4 || offset + length > table.len() {
            return None;
        }
        let strings_start = offset + length;
        let end = table[strings_start..]
            .windows(2)
            .position(|w| w == [0, 0])
            .map(|p| strings_start + p)?;
        if kind == PROCESSOR_TYPE {
            let strings: Vec<String> = table[strings_start..end]
                .split(|b| *b == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            if let (Some(vendor), Some(model)) = (strings.get(1), strings.get(2)) {
                if !vendor.is_empty() && !model.is_empty() {
                    return Some((vendor.clone(), model.clone()));
                }
            }
        }
        if kind == 127 {
            return None;
        }
        offset = end + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_processor_identity_type4_strings() {
        let mut table = vec![0u8, 4, 0, 0, 0, 0]; // type 0, no strings
        table.extend_from_slice(&[4, 4, 1, 0]);
        table.extend_from_slice(b"CPU0\0Ampere(R)\0Altra(R) Q80-30\0\0");
        table.extend_from_slice(&[127, 4, 2, 0, 0, 0]);
        assert_eq!(
            parse_processor_identity(&table),
            Some(("Ampere(R)".into(), "Altra(R) Q80-30".into()))
        );
    }

    #[test]
    fn parse_processor_identity_truncated_none() {
        assert_eq!(parse_processor_identity(&[4, 40, 0]), None);
    }
}
