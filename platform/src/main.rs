//! `redmule-vp`: the command line. See `redmule-vp --help`.

fn main() {
    restore_sigpipe();
    let code = redmule_vp::cli::main_with(redmule_vp::builtin_registry());
    std::process::exit(code);
}

/// Rust starts programs with SIGPIPE ignored, so printing into a closed pipe
/// (`redmule-vp bench | head -1`) makes `println!` panic. A command-line tool should end
/// quietly instead, as `cat` or `grep` do: restore the default action.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
