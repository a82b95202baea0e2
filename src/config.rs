//! Layered configuration: built-in defaults, `config/default.toml`, optional
//! `config/<environment>.toml`, then environment variables. The settings are
//! passed into the application; nothing reads a global.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The JWT secret shipped for development. Production refuses to start with it.
pub const DEVELOPMENT_JWT_SECRET: &str = "madoguchi-development-secret-never-use-in-production";
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub env: Environment,
    /// host:port to listen on.
    pub bind: String,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    pub bootstrap: BootstrapSettings,
    pub schedule: ScheduleSettings,
    pub loaners: LoanerSettings,
    pub tickets: TicketSettings,
    pub jobs: JobSettings,
    pub attendance: AttendanceSettings,
    pub mail: MailSettings,
    pub calls: CallSettings,
    #[serde(default)]
    pub backup: BackupSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub bookings: BookingSettings,
}

/// How bookings of one session share a commit (section `bookings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingSettings {
    /// How long the first booking of a group waits for others to join it
    /// before its transaction starts (0: not at all; bookings that arrive
    /// while a group runs form the next group anyway). Like PostgreSQL's
    /// `commit_delay`: a little latency for fewer commits.
    pub group_window_ms: u64,
    /// How many groups of one organisation run at once, each on its own
    /// connection (`bookings::group::LANES` unless set; docs/benchmarks.md
    /// has the measurements behind it).
    #[serde(default = "default_group_lanes")]
    pub group_lanes: usize,
}

fn default_group_lanes() -> usize {
    crate::bookings::group::LANES
}

impl Default for BookingSettings {
    fn default() -> Self {
        BookingSettings {
            group_window_ms: 0,
            group_lanes: default_group_lanes(),
        }
    }
}

/// `GET /metrics` (section `metrics`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// The bearer token the scraper sends; unset: no `/metrics` (404).
    /// Redacted in `Debug`, like the other secrets.
    #[serde(serialize_with = "expose_optional")]
    pub token: Option<SecretString>,
}

/// Backups of the SQLite database (section `backup`); PostgreSQL uses
/// `pg_dump` (docs/operations.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupSettings {
    /// Where backups go.
    pub dir: String,
    /// Hours between scheduled backups; 0 turns them off.
    pub interval_hours: u64,
    /// How many scheduled backups are kept (the newest).
    pub keep: usize,
    /// Copy the file before applying migrations to it (an upgrade).
    pub before_migrations: bool,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            dir: "data/backups".into(),
            interval_hours: 24,
            keep: 7,
            before_migrations: true,
        }
    }
}

/// How mail leaves madoguchi (section `mail`, e.g. `MADOGUCHI_MAIL__TRANSPORT`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailSettings {
    /// `file` (default: `.eml` files in `file_dir`) or `smtp`.
    pub transport: String,
    /// The sender, e.g. `"北区ICT相談センター" <desk@example.jp>`.
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls` (implicit TLS, usually port 465).
    pub smtp_tls: String,
    pub smtp_username: Option<String>,
    #[serde(serialize_with = "expose_optional")]
    pub smtp_password: Option<SecretString>,
    /// Seconds to wait for the mail server before giving up on a try.
    pub smtp_timeout_secs: u64,
    pub file_dir: String,
    /// Production refuses the `file` transport unless this is set.
    pub allow_file_in_production: bool,
    /// How often each instance looks for mail to send and reminders due.
    pub delivery_interval_secs: u64,
    /// Tries before a message is `failed` (waits between them: 1 min,
    /// 5 min, 30 min, 2 h, 12 h).
    pub max_attempts: i32,
}

/// The call list (section `calls`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallSettings {
    /// A call not answered comes back the next working day, up to this
    /// many tries in all.
    pub max_tries: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttendanceSettings {
    /// Attendance can be marked from this many minutes before a session
    /// starts (people arrive early); closing waits for the start.
    pub opens_minutes_before: i64,
    /// Booking someone with this many no-shows or more in the last
    /// `no_show_months` answers a warning with the dates (never a refusal).
    #[serde(default = "default_no_show_count")]
    pub no_show_warning_count: i64,
    #[serde(default = "default_no_show_months")]
    pub no_show_months: u32,
}

fn default_no_show_count() -> i64 {
    2
}

fn default_no_show_months() -> u32 {
    6
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketSettings {
    /// A resolved ticket closes by itself after this many days.
    pub auto_close_days: i64,
    /// How often each instance looks for tickets to close; 0 turns it off.
    pub auto_close_interval_secs: u64,
    /// How far back a ticket's `received_at` may lie (a call logged an
    /// hour later, a FAX over a long weekend, a paper list after an outage).
    pub received_at_max_age_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSettings {
    /// Background jobs run on this instance (each under its lease).
    pub enabled: bool,
    /// How often old idempotency keys and login failures are forgotten.
    pub housekeeping_interval_secs: u64,
    /// How often each instance looks for lotteries to draw and held offers
    /// whose time ran out.
    #[serde(default = "default_lottery_interval")]
    pub lottery_interval_secs: u64,
}

fn default_min_idle() -> u32 {
    1
}

fn default_idle_timeout() -> u64 {
    300
}

fn default_lottery_interval() -> u64 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoanerSettings {
    /// Minutes a loaner device needs between two uses (charging, wiping).
    pub turnaround_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleSettings {
    /// Sessions of a series are stored this many days ahead.
    pub horizon_days: u32,
    /// How often each instance checks whether series need extending.
    pub extend_interval_secs: u64,
    /// A series may not produce more sessions than this within the horizon.
    pub max_sessions_per_series: usize,
    /// How long this instance answers the same availability list page from
    /// memory (0: never). Any write committed by this instance drops the
    /// pages at once; a change made by another instance shows after at
    /// most this long.
    #[serde(default = "default_list_cache_ms")]
    pub list_cache_ms: u64,
}

fn default_list_cache_ms() -> u64 {
    1000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    pub url: String,
    /// The most connections the pool opens.
    pub pool_size: u32,
    /// Connections kept open when idle; the pool opens more on demand up to
    /// `pool_size` and closes the extra ones after `pool_idle_timeout_secs`.
    #[serde(default = "default_min_idle")]
    pub pool_min_idle: u32,
    #[serde(default = "default_idle_timeout")]
    pub pool_idle_timeout_secs: u64,
    pub acquire_timeout_ms: u64,
    pub sqlite_busy_timeout_ms: u32,
    /// PostgreSQL: seconds to wait for a new connection (libpq `connect_timeout`).
    pub connect_timeout_secs: u32,
    /// PostgreSQL: the server cancels a statement after this long.
    pub statement_timeout_ms: u32,
    /// PostgreSQL: a connection whose sent data stays unacknowledged this
    /// long is dropped (libpq `tcp_user_timeout`); keepalives find dead idle ones.
    pub tcp_user_timeout_ms: u32,
    /// PostgreSQL: a request's database work that has not finished after
    /// this long answers 503, whatever the network does. 0 turns it off.
    pub request_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSettings {
    // Serialized only to seed figment with the defaults; `Debug` redacts it.
    #[serde(serialize_with = "expose")]
    pub jwt_secret: SecretString,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Failed logins are counted over this sliding window.
    pub login_window_secs: u64,
    /// Failures of one account from one client address before that client
    /// must wait for the window.
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    /// Failures of one account from all clients it has never logged in
    /// from; growing delays start at half of it. Known clients are exempt.
    pub max_failures_per_account_any_client: u32,
    /// A client address stays "known" for an account this many days after
    /// its last successful login.
    pub known_client_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For`
    /// is believed; from anyone else the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// `pretty` for people, `json` for log collectors.
    pub format: String,
    /// A tracing filter, e.g. `info,madoguchi=debug`. `RUST_LOG` overrides it.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapSettings {
    /// On the first start against an empty database an organisation and an
    /// admin are created with these names, and a one-time password is printed.
    pub enabled: bool,
    pub organisation_name: String,
    pub admin_email: String,
    pub admin_name: String,
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

fn expose_optional<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            env: Environment::Development,
            bind: "127.0.0.1:8080".into(),
            database: DatabaseSettings {
                url: "data/madoguchi.db".into(),
                pool_size: 16,
                pool_min_idle: 1,
                pool_idle_timeout_secs: 300,
                acquire_timeout_ms: 5_000,
                sqlite_busy_timeout_ms: 10_000,
                connect_timeout_secs: 3,
                statement_timeout_ms: 5_000,
                tcp_user_timeout_ms: 5_000,
                request_timeout_ms: 8_000,
            },
            auth: AuthSettings {
                jwt_secret: SecretString::from(DEVELOPMENT_JWT_SECRET),
                jwt_issuer: "madoguchi".into(),
                jwt_audience: "madoguchi-api".into(),
                access_token_ttl_secs: 900,
                refresh_token_ttl_days: 30,
                login_window_secs: 900,
                max_failures_per_account: 5,
                max_failures_per_address: 20,
                max_failures_per_account_any_client: 100,
                known_client_days: 90,
            },
            http: HttpSettings {
                max_body_bytes: 64 * 1024,
                workers: 0,
                trusted_proxies: Vec::new(),
            },
            log: LogSettings {
                format: "pretty".into(),
                filter: "info".into(),
            },
            bootstrap: BootstrapSettings {
                enabled: true,
                organisation_name: "My organisation".into(),
                admin_email: "admin@madoguchi.local".into(),
                admin_name: "Administrator".into(),
            },
            schedule: ScheduleSettings {
                horizon_days: 180,
                extend_interval_secs: 3600,
                max_sessions_per_series: 400,
                list_cache_ms: default_list_cache_ms(),
            },
            loaners: LoanerSettings {
                turnaround_minutes: 30,
            },
            tickets: TicketSettings {
                auto_close_days: 7,
                auto_close_interval_secs: 3600,
                received_at_max_age_hours: 168,
            },
            attendance: AttendanceSettings {
                opens_minutes_before: 30,
                no_show_warning_count: 2,
                no_show_months: 6,
            },
            jobs: JobSettings {
                enabled: true,
                housekeeping_interval_secs: 3600,
                lottery_interval_secs: 60,
            },
            mail: MailSettings {
                transport: "file".into(),
                from: "madoguchi <madoguchi@localhost>".into(),
                smtp_host: "localhost".into(),
                smtp_port: 25,
                smtp_tls: "none".into(),
                smtp_username: None,
                smtp_password: None,
                smtp_timeout_secs: 10,
                file_dir: "mail".into(),
                allow_file_in_production: false,
                delivery_interval_secs: 30,
                max_attempts: 6,
            },
            calls: CallSettings { max_tries: 3 },
            backup: BackupSettings::default(),
            bookings: BookingSettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error(
        "refusing to start in production with the development JWT secret: set MADOGUCHI_JWT_SECRET"
    )]
    DevelopmentSecretInProduction,
    #[error(
        "refusing to start in production: the JWT secret must be at least {MIN_SECRET_BYTES} bytes"
    )]
    SecretTooShort,
    #[error("unknown environment {0:?}: use development or production")]
    UnknownEnvironment(String),
    #[error(
        "refusing to start in production with mail.transport = file: configure SMTP, or set mail.allow_file_in_production"
    )]
    FileMailInProduction,
    #[error("invalid mail settings: {0}")]
    Mail(String),
}

impl Settings {
    /// Loads settings from `config_dir` and the process environment, and
    /// refuses unsafe ones (`check`).
    pub fn load(config_dir: &Path) -> Result<Settings, ConfigError> {
        let settings = Self::load_unchecked(config_dir)?;
        settings.check()?;
        Ok(settings)
    }

    /// Loads settings without refusing unsafe ones: `madoguchi check`
    /// reports them instead.
    pub fn load_unchecked(config_dir: &Path) -> Result<Settings, ConfigError> {
        let env_name = std::env::var("MADOGUCHI_ENV").unwrap_or_else(|_| "development".into());
        if !matches!(env_name.as_str(), "development" | "production") {
            return Err(ConfigError::UnknownEnvironment(env_name));
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(config_dir.join("default.toml")))
            .merge(Toml::file(config_dir.join(format!("{env_name}.toml"))))
            .merge(
                // MADOGUCHI_DATABASE__POOL_SIZE → database.pool_size, plus the
                // short documented names below. Keys arrive in their original case.
                Env::prefixed("MADOGUCHI_").map(|key| {
                    match key.as_str().to_ascii_lowercase().as_str() {
                        "jwt_secret" => "auth.jwt_secret".into(),
                        other => other.replace("__", ".").into(),
                    }
                }),
            )
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .extract()
            .map_err(Box::new)?;
        Ok(settings)
    }

    /// Refuses settings that are unsafe for the chosen environment.
    pub fn check(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Everything wrong with the settings, each on its own (`madoguchi
    /// check` prints them all; the server refuses to start on the first).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        if self.env == Environment::Production {
            let secret = self.auth.jwt_secret.expose_secret();
            if secret == DEVELOPMENT_JWT_SECRET {
                out.push(ConfigError::DevelopmentSecretInProduction);
            } else if secret.len() < MIN_SECRET_BYTES {
                out.push(ConfigError::SecretTooShort);
            }
            if self.mail.transport == "file" && !self.mail.allow_file_in_production {
                out.push(ConfigError::FileMailInProduction);
            }
        }
        if !matches!(self.mail.transport.as_str(), "file" | "smtp") {
            out.push(ConfigError::Mail("transport must be smtp or file".into()));
        }
        if !matches!(self.mail.smtp_tls.as_str(), "none" | "starttls" | "tls") {
            out.push(ConfigError::Mail(
                "smtp_tls must be none, starttls or tls".into(),
            ));
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            out.push(ConfigError::Mail(format!(
                "from {:?} is not a mail address",
                self.mail.from
            )));
        }
        out
    }
}

/// Where configuration files live: `MADOGUCHI_CONFIG_DIR` or `./config`.
pub fn config_dir() -> PathBuf {
    std::env::var_os("MADOGUCHI_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("config"))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    fn production_with(secret: &str) -> Settings {
        let mut s = Settings {
            env: Environment::Production,
            ..Default::default()
        };
        s.auth.jwt_secret = SecretString::from(secret);
        s.mail.transport = "smtp".into();
        s
    }

    #[test]
    fn production_refuses_file_mail_unless_told() {
        let mut s = production_with("super-secret-value-0123456789abcdef");
        s.mail.transport = "file".into();
        assert!(matches!(s.check(), Err(ConfigError::FileMailInProduction)));
        s.mail.allow_file_in_production = true;
        assert!(s.check().is_ok());
        s.mail.smtp_tls = "ssl".into();
        assert!(matches!(s.check(), Err(ConfigError::Mail(_))));
    }

    #[test]
    fn production_refuses_the_development_secret() {
        assert!(matches!(
            production_with(DEVELOPMENT_JWT_SECRET).check(),
            Err(ConfigError::DevelopmentSecretInProduction)
        ));
    }

    #[test]
    fn production_refuses_a_short_secret() {
        assert!(matches!(
            production_with("short-secret-31-bytes-long-xxxx").check(),
            Err(ConfigError::SecretTooShort)
        ));
        assert!(
            production_with("a-secret-that-is-exactly-32-byte")
                .check()
                .is_ok()
        );
    }

    #[test]
    fn development_accepts_the_development_secret() {
        assert!(Settings::default().check().is_ok());
    }

    #[test]
    fn environment_variables_override_the_files() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "default.toml",
                "bind = \"0.0.0.0:1\"\n[database]\npool_size = 3\n",
            )?;
            jail.set_env("MADOGUCHI_BIND", "127.0.0.1:9999");
            jail.set_env(
                "MADOGUCHI_JWT_SECRET",
                "an-env-secret-that-is-long-enough-123",
            );
            jail.set_env("DATABASE_URL", "postgres://db.example/madoguchi");
            jail.set_env("MADOGUCHI_DATABASE__POOL_SIZE", "7");
            let s = Settings::load(jail.directory()).map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "127.0.0.1:9999");
            assert_eq!(
                s.auth.jwt_secret.expose_secret(),
                "an-env-secret-that-is-long-enough-123"
            );
            assert_eq!(s.database.url, "postgres://db.example/madoguchi");
            assert_eq!(s.database.pool_size, 7);
            assert_eq!(s.env, Environment::Development);
            Ok(())
        });
    }

    #[test]
    fn the_environment_file_applies_over_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("default.toml", "[log]\nformat = \"pretty\"\n")?;
            jail.create_file("production.toml", "[log]\nformat = \"json\"\n")?;
            jail.set_env("MADOGUCHI_ENV", "production");
            jail.set_env("MADOGUCHI_MAIL__TRANSPORT", "smtp");
            jail.set_env(
                "MADOGUCHI_JWT_SECRET",
                "an-env-secret-that-is-long-enough-123",
            );
            let s = Settings::load(jail.directory()).map_err(|e| e.to_string())?;
            assert_eq!(s.env, Environment::Production);
            assert_eq!(s.log.format, "json");
            jail.set_env("MADOGUCHI_JWT_SECRET", "short");
            assert!(matches!(
                Settings::load(jail.directory()),
                Err(ConfigError::SecretTooShort)
            ));
            jail.set_env("MADOGUCHI_ENV", "staging");
            assert!(matches!(
                Settings::load(jail.directory()),
                Err(ConfigError::UnknownEnvironment(_))
            ));
            Ok(())
        });
    }

    #[test]
    fn the_secret_never_prints() {
        let s = production_with("super-secret-value-0123456789abcdef");
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
