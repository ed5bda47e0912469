//! Loading a classic BPF seccomp program that was built elsewhere (libseccomp builds and
//! exports it; see `lxd_runtime::seccomp`), so a process about to exec needs no allocation
//! and no library code to take its filter.

use std::io;

/// The size of one `struct sock_filter` instruction.
const INSTRUCTION_LEN: usize = 8;
/// The kernel's limit of instructions per program (`BPF_MAXINSNS`).
const MAX_INSTRUCTIONS: usize = 4096;

/// A classic BPF program, decoded from the bytes libseccomp exports (an array of `struct
/// sock_filter` in native byte order) ahead of time, so that loading it allocates nothing.
#[derive(Clone)]
pub struct FilterProgram(Vec<libc::sock_filter>);

impl std::fmt::Debug for FilterProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FilterProgram({} instructions)", self.0.len())
    }
}

impl FilterProgram {
    /// Decode `program`; refused unless it holds 1 to 4096 whole instructions.
    pub fn from_bytes(program: &[u8]) -> io::Result<Self> {
        let count = program.len() / INSTRUCTION_LEN;
        if !program.len().is_multiple_of(INSTRUCTION_LEN) || count == 0 || count > MAX_INSTRUCTIONS
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a seccomp program of 1 to {MAX_INSTRUCTIONS} instructions"),
            ));
        }
        let instructions = program
            .chunks_exact(INSTRUCTION_LEN)
            .map(|raw| libc::sock_filter {
                code: u16::from_ne_bytes([raw[0], raw[1]]),
                jt: raw[2],
                jf: raw[3],
                k: u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]),
            })
            .collect();
        Ok(Self(instructions))
    }

    /// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`, as libseccomp's `seccomp_load` does for a
    /// filter without flags. No `no_new_privs` is set: the caller holds `CAP_SYS_ADMIN` in its
    /// user namespace or has set it itself.
    pub fn load(&self) -> io::Result<()> {
        let fprog = libc::sock_fprog {
            // At most MAX_INSTRUCTIONS (checked when decoded), which fits.
            len: self.0.len() as libc::c_ushort,
            filter: self.0.as_ptr().cast_mut(),
        };
        // SAFETY: `fprog` points at `len` initialised instructions owned by `self`, which
        // outlive the call; the kernel copies the program, reads nothing else of ours and
        // never writes through the pointer.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &fprog as *const libc::sock_fprog,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_programs_are_refused_before_the_kernel_sees_them() {
        for bad in [&[][..], &[0u8; 7][..], &[0u8; 9][..]] {
            let err = FilterProgram::from_bytes(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let too_long = vec![0u8; (MAX_INSTRUCTIONS + 1) * INSTRUCTION_LEN];
        assert_eq!(
            FilterProgram::from_bytes(&too_long).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        // BPF_RET|BPF_K 0x7fff0000 (allow): one instruction, decoded field by field.
        let mut allow = 0x06u16.to_ne_bytes().to_vec();
        allow.extend([0, 0]);
        allow.extend(0x7fff_0000u32.to_ne_bytes());
        let program = FilterProgram::from_bytes(&allow).unwrap();
        assert_eq!(program.0.len(), 1);
        assert_eq!((program.0[0].code, program.0[0].k), (0x06, 0x7fff_0000));
    }
}
