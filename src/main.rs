use std::process::ExitCode;

use clap::Parser;
use madoguchi::cli::{self, Cli};
use madoguchi::config::{Settings, config_dir};

fn main() -> ExitCode {
    madoguchi::startup::tune_allocator();
    let code = actix_web::rt::System::new().block_on(run());
    // Leave without the C library's exit handlers: a pool thread may still
    // be opening a PostgreSQL connection, and libpq's TLS clean-up running
    // under it crashes the process at exit (seen as a segfault after a
    // successful `migrate` one run in six). Everything that matters is
    // committed or written by now; flush what was printed.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; nothing runs after it.
    unsafe { libc::_exit(if code == ExitCode::SUCCESS { 0 } else { 1 }) }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match cli.command {
        Some(cli::Command::Check) => Settings::load_unchecked(&config_dir()),
        _ => Settings::load(&config_dir()),
    };
    let settings = match loaded {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli::run(cli, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
