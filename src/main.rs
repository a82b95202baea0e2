use std::process::ExitCode;

use clap::Parser;
use madoguchi::cli::{self, Cli};
use madoguchi::config::{Settings, config_dir};

fn main() -> ExitCode {
    madoguchi::startup::tune_allocator();
    actix_web::rt::System::new().block_on(run())
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
