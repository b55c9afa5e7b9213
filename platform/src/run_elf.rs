//! `redmule-vp run-elf FILE.elf`: run a binary on the default cluster.
//! (Being written: see the core component.)

use vp_kernel::Registry;

/// Arguments of `run-elf`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunElfArgs {
    /// The ELF file.
    pub elf: std::path::PathBuf,
}

/// Run the command; returns the exit code.
pub fn run(_reg: &Registry, _a: &RunElfArgs) -> i32 {
    eprintln!("error: run-elf is not available in this build");
    crate::cli::EXIT_BAD_INPUT
}
