use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    poortwachter::cli::main().await
}
