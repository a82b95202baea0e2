use std::process::ExitCode;

use clap::Parser;
use madoguchi::cli::{self, Cli};
use madoguchi::config::{Settings, config_dir};

/// glibc's allocator, as a small long-running server wants it: two arenas
/// instead of eight per core (each thread that allocates otherwise gets its
/// own, and keeps what it touched), and large blocks (argon2's 19 MiB per
/// password hash, big answers) from mmap, given back to the system when
/// freed instead of kept in an arena. Idle memory went from about 75 MB to
/// under 40 MB (docs/benchmarks.md). Before any thread starts.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&config_dir()) {
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
