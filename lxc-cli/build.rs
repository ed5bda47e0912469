//! Link `lxc` as a position-dependent executable, as Debian's own `lxc` 5.0.2 is (an ELF
//! `EXEC`): a PIE of this size has about 11,000 relative relocations that the dynamic loader
//! applies at every start, a fifth of what a short `lxc exec` ran in user space before.
//! Libraries, stack and heap keep their randomised addresses; the daemon stays a PIE.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
