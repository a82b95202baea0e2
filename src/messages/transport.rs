//! Where mail goes, chosen in configuration (`mail.transport`): an SMTP
//! server through lettre's pooled async transport (no TLS, STARTTLS or
//! implicit TLS, optional credentials, a timeout), or `.eml` files in a
//! folder (the default, so a machine with no mail server works and a new
//! user can open what would have been sent).

use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::MailSettings;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a message did not go.
#[derive(Debug)]
pub enum SendError {
    /// The server could not be reached (connection refused, timeout, TLS):
    /// nothing is wrong with the message; try everything again later.
    Unreachable(String),
    /// The server answered no: `permanent` for a 5xx reply.
    Refused { permanent: bool, reason: String },
}

impl Mailer {
    pub fn from_settings(s: &MailSettings) -> anyhow::Result<Mailer> {
        if s.transport == "file" {
            std::fs::create_dir_all(&s.file_dir)?;
            return Ok(Mailer::File(AsyncFileTransport::<Tokio1Executor>::new(
                &s.file_dir,
            )));
        }
        let builder = match s.smtp_tls.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.smtp_host)?,
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.smtp_host)?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.smtp_host),
        };
        let mut builder = builder
            .port(s.smtp_port)
            .timeout(Some(Duration::from_secs(s.smtp_timeout_secs.max(1))))
            .pool_config(PoolConfig::new().max_size(4));
        if let (Some(user), Some(password)) = (&s.smtp_username, &s.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Mailer::Smtp(builder.build()))
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Unreachable(format!("cannot write the file: {e}"))),
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Refused {
                        permanent: true,
                        reason: e.to_string(),
                    }
                } else if e.is_transient() {
                    SendError::Refused {
                        permanent: false,
                        reason: e.to_string(),
                    }
                } else {
                    SendError::Unreachable(e.to_string())
                }
            }),
        }
    }
}
