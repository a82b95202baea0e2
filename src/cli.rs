//! The command line: `serve` (default), `migrate [--dry-run]`, `backup`,
//! `restore`, `admin create`.

use std::io::BufRead;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::auth::Role;
use crate::config::Settings;
use crate::db::write_tx;
use crate::error::AppError;
use crate::organisations;
use crate::staff::service::{self, NewStaff};
use crate::startup::{Application, open_database};
use crate::{auth, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "madoguchi",
    version,
    about = "Booking, attendance and consultation desk"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit (an existing SQLite file
    /// is copied first, see `backup.before_migrations`).
    Migrate {
        /// List the migrations that would run, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the SQLite database into a new file, consistently, while the
    /// server keeps serving.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a copy back in place of the SQLite database (the server must be
    /// stopped; the replaced file is kept aside).
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Check the configuration and the database connection; one line per
    /// finding, exit status 1 when something is wrong.
    Check,
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account (and its organisation if it does not exist).
    Create {
        /// Organisation name; created if no organisation has this name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// The admin's display name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input (the only
        /// way: a password on the command line would be visible to `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub async fn run(cli: Cli, mut settings: Settings) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Serve) {
        // A command that exits soon opens connections only when it needs
        // them, never in the background: a pool thread still connecting
        // when the process exits makes libpq's TLS clean-up crash.
        settings.database.pool_min_idle = 0;
    }
    match command {
        Command::Serve => {
            telemetry::init(&settings.log);
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "madoguchi is serving");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate { dry_run: true } => {
            let url = settings.database.url.clone();
            let pending = actix_web::web::block(move || {
                let pool =
                    crate::db::connect_pool(&url, 1, std::time::Duration::from_secs(10), 10_000)?;
                let mut conn = pool.get()?;
                crate::db::pending_migrations(&mut conn)
            })
            .await??;
            if pending.is_empty() {
                println!("migrations are up to date: nothing would run");
            } else {
                println!("{} migration(s) would run:", pending.len());
                for name in pending {
                    println!("  {name}");
                }
            }
            Ok(())
        }
        Command::Migrate { dry_run: false } => {
            open_database(&settings).await?;
            println!("migrations are up to date");
            Ok(())
        }
        Command::Check => {
            let findings = check(&settings).await;
            let mut wrong = 0;
            for (ok, line) in &findings {
                if *ok {
                    println!("ok: {line}");
                } else {
                    wrong += 1;
                    println!("problem: {line}");
                }
            }
            if wrong > 0 {
                anyhow::bail!("{wrong} problem(s) found");
            }
            Ok(())
        }
        Command::Backup { to } => {
            let db = sqlite_only(&settings, "backup")?;
            actix_web::web::block(move || crate::backup::backup_to(&db, &to).map(|()| to))
                .await?
                .map(|to| println!("backed up into {}", to.display()))
        }
        Command::Restore { from } => {
            let db = sqlite_only(&settings, "restore")?;
            let target = db.clone();
            let aside = actix_web::web::block(move || crate::backup::restore_from(&target, &from))
                .await??;
            match aside {
                Some(kept) => println!(
                    "restored {}; the replaced file is kept as {}",
                    db.display(),
                    kept.display()
                ),
                None => println!("restored {}", db.display()),
            }
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create {
                org, email, name, ..
            },
        } => {
            let password = read_password_line()?;
            create_admin(&settings, &org, &email, &name, password).await?;
            println!(
                "created admin {} in organisation {org:?}",
                email.trim().to_lowercase()
            );
            Ok(())
        }
    }
}

/// What `madoguchi check` finds: (fine, what) per line.
async fn check(settings: &Settings) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = settings
        .problems()
        .into_iter()
        .map(|p| (false, p.to_string()))
        .collect();
    if out.is_empty() {
        out.push((
            true,
            format!("configuration ({:?})", settings.env).to_lowercase(),
        ));
    }
    if settings.env == crate::config::Environment::Production
        && settings.http.trusted_proxies.is_empty()
    {
        out.push((
            false,
            "http.trusted_proxies is empty: behind a reverse proxy every request seems to come from the proxy (login throttling, audit); name the proxy's address".into(),
        ));
    }
    let url = settings.database.url.clone();
    let database = actix_web::web::block(move || -> anyhow::Result<(usize, usize)> {
        let url = match crate::db::Backend::from_url(&url) {
            crate::db::Backend::Postgres => crate::db::with_pg_timeouts(
                &url,
                crate::db::PgTimeouts {
                    connect_timeout_secs: 5,
                    statement_timeout_ms: 5000,
                    tcp_user_timeout_ms: 5000,
                },
            ),
            crate::db::Backend::Sqlite => url,
        };
        let pool = crate::db::connect_pool(&url, 1, std::time::Duration::from_secs(6), 5000)?;
        let mut conn = pool.get()?;
        let applied = crate::db::applied_migration_count(&mut conn)?;
        let pending = crate::db::pending_migrations(&mut conn)?.len();
        Ok((applied, pending))
    })
    .await;
    match database {
        Ok(Ok((_, 0))) => out.push((true, "database: connected, migrations up to date".into())),
        Ok(Ok((0, _))) => out.push((
            true,
            "database: connected, new (the first start creates the tables)".into(),
        )),
        Ok(Ok((_, pending))) => out.push((
            true,
            format!("database: connected, {pending} migration(s) to apply at the next start (madoguchi migrate --dry-run lists them)"),
        )),
        Ok(Err(e)) => out.push((false, format!("database: cannot connect: {}", one_line(&e)))),
        Err(e) => out.push((false, format!("database: {e}"))),
    }
    if let Some(_file) = crate::backup::sqlite_file(&settings.database.url) {
        let dir = std::path::Path::new(&settings.backup.dir);
        let probe = dir.join(".madoguchi-check");
        match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&probe, b"")) {
            Ok(()) => {
                let _ = std::fs::remove_file(&probe);
                out.push((true, format!("backups go to {}", dir.display())));
            }
            Err(e) => out.push((
                false,
                format!("backup.dir {} is not writable: {e}", dir.display()),
            )),
        }
    }
    out
}

/// An error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SQLite file of the settings, or why the command does not apply.
fn sqlite_only(settings: &Settings, command: &str) -> anyhow::Result<std::path::PathBuf> {
    crate::backup::sqlite_file(&settings.database.url).ok_or_else(|| {
        anyhow::anyhow!(
            "`madoguchi {command}` is for the SQLite database; for PostgreSQL use pg_dump and pg_restore (docs/operations.md)"
        )
    })
}

fn read_password_line() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(SecretString::from(password))
}

async fn create_admin(
    settings: &Settings,
    org: &str,
    email: &str,
    name: &str,
    password: SecretString,
) -> anyhow::Result<()> {
    let org = org.trim().to_owned();
    if org.is_empty() || org.chars().count() > 200 {
        anyhow::bail!("--org must be 1–200 characters");
    }
    let pool = open_database(settings).await?;
    let new = NewStaff::parse(email, name, Role::Admin, None, &password).map_err(cli_error)?;
    let hash = auth::password::hash(&new.password)?;
    let mut conn = pool.get()?;
    write_tx(&mut conn, |conn| {
        let organisation = match organisations::queries::find_by_name(conn, &org)? {
            Some(existing) => existing,
            None => organisations::queries::insert(conn, &org)?,
        };
        service::create(conn, organisation.id, None, &new, &hash, false)
    })
    .map_err(cli_error)?;
    Ok(())
}

/// The client-facing words of an error, for a terminal.
fn cli_error(err: AppError) -> anyhow::Error {
    match err {
        AppError::Client(c) => anyhow::anyhow!("{}", c.detail),
        other => anyhow::anyhow!(other),
    }
}
