//! Access tokens: HS256 JWTs with issuer, audience, expiry and the auth
//! session they belong to. The algorithm is pinned; nothing else verifies.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::config::AuthSettings;
use crate::db::{AccountId, AuthSessionId, OrganisationId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: AccountId,
    pub org: OrganisationId,
    pub role: Role,
    /// The auth session (refresh-token chain); logging out revokes it.
    pub sid: AuthSessionId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: uuid::Uuid,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub ttl: Duration,
}

impl JwtKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        let secret = settings.jwt_secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            ttl: Duration::from_secs(settings.access_token_ttl_secs),
        }
    }

    pub fn issue(
        &self,
        account: AccountId,
        organisation: OrganisationId,
        role: Role,
        session: AuthSessionId,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: account,
            org: organisation,
            role,
            sid: session,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid token; `None` for anything else (bad signature,
    /// other algorithm, expired, wrong issuer or audience, malformed).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        // A token issued in the future was not issued by us (or our clock
        // jumped): refuse it, allowing the same leeway as for expiry.
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        (claims.iat <= now + leeway).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use secrecy::SecretString;

    fn keys(secret: &str) -> JwtKeys {
        let mut settings = crate::config::Settings::default().auth;
        settings.jwt_secret = SecretString::from(secret.to_owned());
        JwtKeys::new(&settings)
    }

    fn token(k: &JwtKeys) -> String {
        k.issue(
            AccountId::generate(),
            OrganisationId::generate(),
            Role::Admin,
            AuthSessionId::generate(),
        )
        .unwrap()
    }

    #[test]
    fn a_fresh_token_verifies() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let claims = k.verify(&token(&k)).expect("valid");
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.aud, "madoguchi-api");
    }

    #[test]
    fn a_token_signed_with_another_key_fails() {
        let a = keys("0123456789abcdef0123456789abcdef");
        let b = keys("fedcba9876543210fedcba9876543210");
        assert!(b.verify(&token(&a)).is_none());
    }

    #[test]
    fn an_unsigned_token_fails() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let valid = token(&k);
        let payload = valid.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(k.verify(&format!("{header}.{payload}.")).is_none());
    }

    #[test]
    fn a_token_issued_in_the_future_fails() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: AccountId::generate(),
            org: OrganisationId::generate(),
            role: Role::Admin,
            sid: AuthSessionId::generate(),
            iss: k.issuer.clone(),
            aud: k.audience.clone(),
            iat: now + 3600,
            exp: now + 7200,
            jti: uuid::Uuid::new_v4(),
        };
        let forged =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert!(k.verify(&forged).is_none());
        let fine = Claims { iat: now, ..claims };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &fine, &k.encoding).unwrap();
        assert!(k.verify(&token).is_some());
    }
}
