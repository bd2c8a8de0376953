fn main() -> std::process::ExitCode {
    gauntlet::cli::main()
}
