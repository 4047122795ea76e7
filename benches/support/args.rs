//! The command line of the bench binaries (`harness = false`): `cargo bench --bench
//! NAME -- WHICH [--flag value ...]`, shared by benches/decom.rs and benches/moto.rs.

/// The arguments after the binary's name, less the `--bench` that `cargo bench`
/// passes: the benchmark to run (`all` when none is named) and its flags.
pub fn which_and_flags() -> (String, Vec<String>) {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let which = args.next().unwrap_or_else(|| "all".to_string());
    (which, args.collect())
}

/// The value after `name`, if the flag is given.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The median (the upper one of an even count); sorts `values`.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
