//! The `t3s3` binary: parse, run, print the error, exit. Everything else is in the library.

fn main() -> std::process::ExitCode {
    t3s3::run::main()
}
