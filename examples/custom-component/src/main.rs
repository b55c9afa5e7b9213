//! Your own `redmule-vp`: the built-in kinds plus `copier`.
//! `cargo run -p custom-component-example -- run my-scenario.yaml`

fn main() {
    let mut reg = redmule_vp::builtin_registry();
    reg.register(custom_component_example::kind());
    std::process::exit(redmule_vp::cli::main_with(reg));
}
