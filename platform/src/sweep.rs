//! `redmule-vp sweep FILE` and `redmule-vp merge`: parameter studies.
//! (Being written.)

use vp_kernel::Registry;

/// Arguments of `sweep`.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// The sweep file.
    pub file: std::path::PathBuf,
}

/// Arguments of `merge`.
#[derive(clap::Args, Debug, Clone)]
pub struct MergeArgs {
    /// Shard output folders.
    pub dirs: Vec<std::path::PathBuf>,
}

/// Run a sweep; returns the exit code.
pub fn run(_reg: &Registry, _a: &SweepArgs) -> i32 {
    eprintln!("error: sweep is not available in this build");
    crate::cli::EXIT_BAD_INPUT
}

/// Merge shard outputs; returns the exit code.
pub fn merge(_a: &MergeArgs) -> i32 {
    eprintln!("error: merge is not available in this build");
    crate::cli::EXIT_BAD_INPUT
}
