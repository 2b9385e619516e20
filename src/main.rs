fn main() -> std::process::ExitCode {
    ws2sim::cli::main()
}
