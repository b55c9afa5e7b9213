//! `redmule-vp`: the command line. See `redmule-vp --help`.

fn main() {
    let code = redmule_vp::cli::main_with(redmule_vp::builtin_registry());
    std::process::exit(code);
}
