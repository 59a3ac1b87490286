fn main() -> std::process::ExitCode {
    shopvo::cli::main()
}
