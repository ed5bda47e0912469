//! Giving back the pages a long-lived helper touched only while it started.
//!
//! The monitor is the daemon's binary re-executed: starting a container runs a lot of its code
//! (argument parsing, JSON, mounts, seccomp, cgroups) once, and every page of code or constant
//! data it touched stays in its resident set for the container's whole life. Those pages are
//! clean copies of files in the page cache, so dropping them from this process loses nothing:
//! `madvise(MADV_DONTNEED)` unmaps them, the page cache keeps them, and a later access maps
//! them again with a minor fault.
//!
//! Only mappings that are not writable and hold no private (anonymous) pages qualify: a
//! private file mapping that was ever written to (relocated data made read-only afterwards,
//! RELRO) holds private copies that `MADV_DONTNEED` would throw away, so it is left alone.

use std::io;

/// One mapping of `/proc/self/smaps` that may be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanMapping {
    pub start: usize,
    pub end: usize,
    /// Resident kB before dropping.
    pub rss_kb: u64,
}

/// Mappings of `smaps` text that are file-backed, not writable, resident and hold no
/// anonymous pages. Special mappings (`[vdso]`, `[vvar]` ...) and anonymous ones are skipped.
pub fn clean_file_mappings(smaps: &str) -> Vec<CleanMapping> {
    struct Current {
        start: usize,
        end: usize,
        eligible: bool,
        rss_kb: u64,
        anon_kb: u64,
    }
    let mut out = Vec::new();
    let mut current: Option<Current> = None;
    let finish = |c: Option<Current>, out: &mut Vec<CleanMapping>| {
        if let Some(c) = c {
            if c.eligible && c.rss_kb > 0 && c.anon_kb == 0 {
                out.push(CleanMapping {
                    start: c.start,
                    end: c.end,
                    rss_kb: c.rss_kb,
                });
            }
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        if let Some((start, end)) = first.split_once('-').and_then(|(a, b)| {
            Some((
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            ))
        }) {
            finish(current.take(), &mut out);
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            current = Some(Current {
                start,
                end,
                eligible: perms.len() == 4
                    && !perms.contains('w')
                    && perms.ends_with('p')
                    && path.starts_with('/'),
                rss_kb: 0,
                anon_kb: 0,
            });
            continue;
        }
        let mut value = || {
            fields
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        if let Some(c) = current.as_mut() {
            match first {
                "Rss:" => c.rss_kb = value(),
                "Anonymous:" => c.anon_kb = value(),
                // Locked pages stay anyway; a shared dirty page would be a writable mapping.
                "Locked:" if value() > 0 => c.eligible = false,
                _ => {}
            }
        }
    }
    finish(current.take(), &mut out);
    out
}

/// Drop this process's clean, read-only file pages (see the module text). Returns the
/// resident kB given back.
pub fn drop_clean_file_pages() -> io::Result<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut dropped = 0;
    for m in clean_file_mappings(&smaps) {
        // SAFETY: the range is a whole mapping of this process read from its own smaps: private,
        // file-backed, not writable and without anonymous pages, so every resident page is an
        // unmodified copy of the file that the next access maps again from the page cache. No
        // Rust object lives in it as mutable memory; code and constants read back identical.
        let ret = unsafe {
            libc::madvise(
                m.start as *mut libc::c_void,
                m.end - m.start,
                libc::MADV_DONTNEED,
            )
        };
        if ret == 0 {
            dropped += m.rss_kb;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0100000 r--p 00000000 fe:01 123 /usr/bin/lxd
Size:               1024 kB
Rss:                 400 kB
Anonymous:             0 kB
Locked:                0 kB
55d0a0100000-55d0a0400000 r-xp 00100000 fe:01 123 /usr/bin/lxd
Rss:                3000 kB
Anonymous:             0 kB
55d0a0400000-55d0a0500000 r--p 00400000 fe:01 123 /usr/bin/lxd
Rss:                 300 kB
Anonymous:           120 kB
55d0a0500000-55d0a0510000 rw-p 00500000 fe:01 123 /usr/bin/lxd
Rss:                  28 kB
Anonymous:             0 kB
55d0a1000000-55d0a1100000 rw-p 00000000 00:00 0 [heap]
Rss:                 108 kB
Anonymous:           108 kB
7f0000000000-7f0000010000 r-xp 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 800 kB
Anonymous:             0 kB
Locked:                4 kB
7f0000020000-7f0000030000 r-xp 00000000 fe:01 10 /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   0 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
7ffd00010000-7ffd00020000 r--s 00000000 fe:01 11 /dev/shm/x
Rss:                   8 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_private_file_mappings_qualify() {
        let found = clean_file_mappings(SMAPS);
        assert_eq!(
            found,
            [
                CleanMapping {
                    start: 0x55d0a0000000,
                    end: 0x55d0a0100000,
                    rss_kb: 400
                },
                CleanMapping {
                    start: 0x55d0a0100000,
                    end: 0x55d0a0400000,
                    rss_kb: 3000
                },
            ]
        );
    }

    #[test]
    fn dropping_keeps_code_and_constants_working() {
        static TABLE: [u64; 4] = [1, 1, 2, 3];
        let before: u64 = TABLE.iter().sum();
        let dropped = drop_clean_file_pages().unwrap();
        assert!(dropped > 0, "a test binary touches some of its own code");
        let after: u64 = TABLE.iter().sum();
        assert_eq!(before, after);
        assert_eq!(format!("{:?}", TABLE), "[1, 1, 2, 3]");
    }
}
