//! The command line: `serve` (default), `migrate`, `admin create`.

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
    /// Apply pending database migrations and exit.
    Migrate,
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

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(&settings.log);
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "madoguchi is serving");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate => {
            open_database(&settings).await?;
            println!("migrations are up to date");
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
