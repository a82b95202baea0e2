//! First start: against an empty database, create an organisation and an
//! admin with a one-time password, printed once to the console (never to the
//! log). Safe when several instances start at once: the organisation name is
//! unique, so only one bootstrap commits.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use secrecy::SecretString;

use crate::auth::Role;
use crate::auth::password;
use crate::config::BootstrapSettings;
use crate::db::{DbConnection, Pool, write_tx};
use crate::error::AppError;
use crate::organisations;
use crate::staff::service::{self, NewStaff};

pub struct BootstrapAdmin {
    pub organisation: String,
    pub email: String,
    password: String,
}

impl BootstrapAdmin {
    /// Prints the credentials on standard output, not through tracing.
    pub fn print(&self) {
        println!(
            "\n  madoguchi first start: created organisation {:?} and its admin\n    \
             email:    {}\n    one-time password: {}\n  \
             Log in and choose a new password (POST /api/v1/me/password). This is shown only once.\n",
            self.organisation, self.email, self.password
        );
    }
}

pub fn first_start(
    pool: &Pool,
    settings: &BootstrapSettings,
) -> anyhow::Result<Option<BootstrapAdmin>> {
    let mut conn = pool.get()?;
    if organisations::queries::count(&mut conn)? > 0 {
        return Ok(None);
    }
    let password = password::generate();
    let new = NewStaff::parse(
        &settings.admin_email,
        &settings.admin_name,
        Role::Admin,
        None,
        &SecretString::from(password.clone()),
    )
    .map_err(|e| anyhow::anyhow!("bootstrap settings are invalid: {e}"))?;
    let hash = password::hash(&new.password)?;
    let created = write_tx(&mut conn, |conn: &mut DbConnection| {
        if organisations::queries::count(conn)? > 0 {
            return Ok(None);
        }
        let org = organisations::queries::insert(conn, &settings.organisation_name)?;
        service::create(conn, org.id, None, &new, &hash, true)?;
        Ok::<_, AppError>(Some(org))
    });
    match created {
        Ok(Some(org)) => Ok(Some(BootstrapAdmin {
            organisation: org.name,
            email: new.email.as_str().to_owned(),
            password,
        })),
        Ok(None) => Ok(None),
        // Another instance bootstrapped at the same moment.
        Err(AppError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("bootstrap failed: {e}")),
    }
}
